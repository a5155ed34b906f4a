using System.Net;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>Injects one scheduled fault into a running cluster, holds it, and undoes it. Returns what it did, in words.</summary>
public sealed class FaultInjector(AgentCluster cluster)
{
    public async Task<string> RunAsync(FaultStep step, CancellationToken ct)
    {
        var leaderName = await cluster.LeaderAsync() ?? throw new InvalidOperationException("no leader before the fault");
        var primary = cluster.Node(leaderName);
        var replicas = cluster.Nodes.Where(n => n != primary).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        var replica = replicas[step.TargetIndex % replicas.Count];
        var hold = step.Hold;
        var s = $"{hold.TotalSeconds:0.0} s";
        switch (step.Kind)
        {
            case FaultKind.KillPrimaryAgent:
                primary.Agent!.Signal("KILL");
                await Task.Delay(hold, ct);
                primary.Start();
                return $"kill -9 agent of {primary.Name}, restarted after {s}";
            case FaultKind.KillPrimaryPostmaster:
            {
                var pm = primary.PostmasterPid() ?? throw new InvalidOperationException($"{primary.Name} has no postmaster");
                OsUser.Run("kill", "-9", pm.ToString());
                return $"kill -9 postmaster of {primary.Name}";
            }
            case FaultKind.KillPrimaryBoth:
                Scenario.KillAgentAndPostmaster(primary);
                await Task.Delay(hold, ct);
                primary.Start();
                return $"kill -9 agent+postmaster of {primary.Name}, agent restarted after {s}";
            case FaultKind.StopPrimaryAgent:
                primary.Agent!.Signal("STOP");
                try { await Task.Delay(hold, ct); }
                finally { primary.Agent!.Signal("CONT"); }
                return $"SIGSTOP agent of {primary.Name} for {s}";
            case FaultKind.StopPrimaryPostmaster:
            {
                var pm = primary.PostmasterPid() ?? throw new InvalidOperationException($"{primary.Name} has no postmaster");
                OsUser.Run("kill", "-STOP", pm.ToString());
                try { await Task.Delay(hold, ct); }
                finally { OsUser.Run(false, "kill", "-CONT", pm.ToString()); }
                return $"SIGSTOP postmaster of {primary.Name} for {s}";
            }
            case FaultKind.PartitionPrimaryFromEtcd:
            case FaultKind.PartitionPrimaryFromReplicas:
            case FaultKind.PartitionPrimaryFromAll:
            {
                var from = step.Kind switch
                {
                    FaultKind.PartitionPrimaryFromEtcd => "etcd",
                    FaultKind.PartitionPrimaryFromReplicas => "peers",
                    _ => "all",
                };
                int rules;
                try
                {
                    rules = NodePartition.Cut(cluster, primary, from);
                    await Task.Delay(hold, ct);
                }
                finally { NodePartition.HealAll(); }
                return $"partition {primary.Name} from {from} ({rules} rules) for {s}";
            }
            case FaultKind.LoseOneEtcdMember:
            {
                var member = step.TargetIndex % cluster.Etcd.Count;
                cluster.Etcd.Kill(member);
                try { await Task.Delay(hold, ct); }
                finally { await cluster.Etcd.RestartAsync(member, CancellationToken.None); }
                return $"etcd member e{member + 1} down for {s}";
            }
            case FaultKind.LoseEtcdQuorum:
            {
                var keep = step.TargetIndex % cluster.Etcd.Count;
                var lost = Enumerable.Range(0, cluster.Etcd.Count).Where(i => i != keep).ToList();
                foreach (var i in lost) cluster.Etcd.Kill(i);
                try { await Task.Delay(hold, ct); }
                finally { foreach (var i in lost) await cluster.Etcd.RestartAsync(i, CancellationToken.None); }
                return $"etcd quorum lost (only e{keep + 1} up) for {s}";
            }
            case FaultKind.RestartReplica:
                replica.Agent!.Signal("TERM");
                if (!await replica.Agent.WaitForExitAsync(TimeSpan.FromSeconds(60)))
                    throw new TimeoutException($"{replica.Name}'s agent did not exit within 60 s of SIGTERM");
                await Task.Delay(hold, ct);
                replica.Start();
                return $"restart replica {replica.Name} (down {s})";
            case FaultKind.Switchover:
            {
                var (code, body) = await Scenario.SendAsync(HttpMethod.Post, primary.RestUrl + "/switchover",
                    $$"""{"leader":"{{primary.Name}}","candidate":"{{replica.Name}}"}""");
                if (code == HttpStatusCode.PreconditionFailed && body.Contains("sync_standby", StringComparison.Ordinal))
                {
                    // Synchronous mode: only the synchronous standby qualifies; let the leader pick it.
                    (code, body) = await Scenario.SendAsync(HttpMethod.Post, primary.RestUrl + "/switchover", $$"""{"leader":"{{primary.Name}}"}""");
                    return $"switchover {primary.Name} -> its synchronous standby: {(int)code} {body.Split('\n')[0]}" + (code == HttpStatusCode.OK ? "" : " (refused)");
                }
                return $"switchover {primary.Name} -> {replica.Name}: {(int)code} {body.Split('\n')[0]}" +
                       (code == HttpStatusCode.OK ? "" : " (refused)");
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step.Kind, "unknown fault kind");
        }
    }

    /// <summary>After a fault that went wrong: every etcd member and every agent running again, no partition left.</summary>
    public async Task RepairAsync()
    {
        NodePartition.HealAll();
        for (var i = 0; i < cluster.Etcd.Count; i++)
            if (!cluster.Etcd.IsRunning(i)) await cluster.Etcd.RestartAsync(i, CancellationToken.None);
        foreach (var n in cluster.Nodes)
        {
            if (n.PostmasterPid() is { } pm) OsUser.Run(false, "kill", "-CONT", pm.ToString());
            if (n.Agent is { HasExited: false } a) a.Signal("CONT");
            else n.Start();
        }
    }
}
