using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>
/// Runs a seeded fault schedule against a 3-node cluster on a 3-member etcd while several clients insert unique ids
/// through whichever node is primary and a checker tries a write on every node over fresh connections every 100 ms.
/// After each fault it waits (with a deadline) for one leader with every replica streaming and records how long that
/// took, and checks the leader still has every insert acknowledged so far.
/// </summary>
public sealed class FaultSuite(Action<string> log)
{
    public const int Clients = 3;
    public static readonly TimeSpan ConvergeDeadline = TimeSpan.FromSeconds(120);

    public int Ttl { get; init; } = 10;
    public int LoopWait { get; init; } = 2;
    public int RetryTimeout { get; init; } = 3;
    public string Mode { get; init; } = "asynchronous replication";
    /// <summary>Extra bootstrap.dcs keys, e.g. <see cref="StrictSynchronous"/>.</summary>
    public IReadOnlyDictionary<string, string>? ExtraDcs { get; init; }

    public static readonly IReadOnlyDictionary<string, string> StrictSynchronous =
        new Dictionary<string, string> { ["synchronous_mode"] = "true", ["synchronous_mode_strict"] = "true" };

    public async Task<FaultReport> RunAsync(string scope, int seed, IReadOnlyList<FaultStep> steps, CancellationToken ct = default)
    {
        NodePartition.HealAll();
        log($"fault suite: seed {seed} (repeat with PGWARDEN_FAULT_SEED={seed}), {steps.Count} faults, ttl {Ttl}, loop_wait {LoopWait}, retry_timeout {RetryTimeout}, {Mode}");
        await using var cluster = await AgentCluster.StartAsync(scope, 3, ttl: Ttl, loopWait: LoopWait, retryTimeout: RetryTimeout, extraDcs: ExtraDcs, etcdMembers: 3, ct: ct);
        try
        {
            await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(180));
            var first = cluster.Node((await cluster.LeaderAsync())!);
            await WriteProbe.CreateTableAsync(first);
            await SplitBrainChecker.CreateTableAsync(first);
            await using var checker = new SplitBrainChecker(cluster);
            checker.Start();
            var probes = Enumerable.Range(1, Clients).Select(i => new WriteProbe(cluster, i)).ToList();
            foreach (var p in probes) p.Start();
            await Wait.UntilAsync(() => probes.All(p => p.Acknowledged.Count > 5), TimeSpan.FromSeconds(30), "every client to get inserts acknowledged");

            var injector = new FaultInjector(cluster);
            var outcomes = new List<FaultOutcome>();
            var lost = new HashSet<long>();
            var sw = Stopwatch.StartNew();
            foreach (var step in steps)
            {
                ct.ThrowIfCancellationRequested();
                var start = checker.Elapsed;
                var unconfirmedBefore = probes.Sum(p => p.UnconfirmedCommits);
                string what;
                string? error = null;
                try { what = await injector.RunAsync(step, ct); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    what = $"{step.Kind} failed to inject";
                    error = e.Message;
                }
                var end = checker.Elapsed;
                var converge = await ConvergeAsync(cluster, ConvergeDeadline);
                if (converge is null)
                {
                    error = (error is null ? "" : error + "; ") + $"not converged within {ConvergeDeadline.TotalSeconds:0} s: " + await DescribeAsync(cluster);
                    log($"#{step.Number} {what}: NOT CONVERGED: {error}");
                    await injector.RepairAsync();
                    if (await ConvergeAsync(cluster, ConvergeDeadline) is null)
                    {
                        outcomes.Add(new FaultOutcome(step, what, start, end) { Error = error + "; still not converged after repair: run aborted" });
                        break;
                    }
                }
                var newlyLost = await NewlyLostAsync(cluster, probes, lost);
                var unconfirmed = probes.Sum(p => p.UnconfirmedCommits) - unconfirmedBefore;
                var outcome = new FaultOutcome(step, what, start, end) { Converge = converge, Lost = newlyLost, Unconfirmed = unconfirmed, Error = error };
                outcomes.Add(outcome);
                log($"#{step.Number,3} t={start.TotalSeconds,7:0.0}s {what}; converged " +
                    (converge is { } c ? $"{c.TotalSeconds:0.0} s" : "after repair") + (newlyLost > 0 ? $"; LOST {newlyLost}" : "") +
                    $"; unconfirmed commits {unconfirmed}" + (error is null ? "" : $"; {error}") + $"; split-brain rounds so far {checker.Violations.Count}");
                await Task.Delay(step.Calm, ct);
            }

            foreach (var p in probes) await p.StopAsync();
            var leader = cluster.Node((await cluster.LeaderAsync())!);
            var missing = new HashSet<long>();
            foreach (var p in probes) missing.UnionWith(await p.MissingOnAsync(leader));
            var windows = checker.Windows();
            for (var i = 0; i < outcomes.Count; i++)
            {
                var from = outcomes[i].Start;
                var to = i + 1 < outcomes.Count ? outcomes[i + 1].Start : TimeSpan.MaxValue;
                outcomes[i].SplitBrainWindows = windows.Count(w => w.From >= from && w.From < to);
            }
            foreach (var w in windows) log($"SPLIT BRAIN {w.From.TotalSeconds:0.0}-{w.To.TotalSeconds:0.0} s: {string.Join(",", w.Writable)} accepted writes");
            if (missing.Count > 0)
            {
                log($"acknowledged inserts missing on the final leader {leader.Name}: {string.Join(",", missing.Order().Take(50))}");
                foreach (var p in probes) foreach (var (id, at) in p.AcknowledgedAt(missing)) log($"  {id} acknowledged at t={at.TotalSeconds:0.000}s (probe clock)");
            }
            var report = new FaultReport(seed, Mode, outcomes, windows.Count, missing.Count, probes.Sum(p => (long)p.Acknowledged.Count),
                checker.Rounds, sw.Elapsed);
            foreach (var p in probes) await p.DisposeAsync();
            return report;
        }
        catch
        {
            foreach (var n in cluster.Nodes) log($"--- {n.Name} agent log tail:\n{Tail(n)}");
            throw;
        }
        finally
        {
            NodePartition.HealAll();
        }
    }

    private static string Tail(ClusterNode n)
    {
        var output = n.Agent?.Output ?? "";
        return output.Length > 4000 ? output[^4000..] : output;
    }

    /// <summary>Time until one leader (DCS) runs as primary and every other node runs as a streaming replica; null after the deadline.</summary>
    public static async Task<TimeSpan?> ConvergeAsync(AgentCluster cluster, TimeSpan deadline)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < deadline)
        {
            try { if (await IsConvergedAsync(cluster)) return sw.Elapsed; }
            catch (Exception) { }
            await Task.Delay(200);
        }
        return null;
    }

    private static async Task<bool> IsConvergedAsync(AgentCluster cluster)
    {
        var leader = await cluster.LeaderAsync();
        if (leader is null) return false;
        foreach (var n in cluster.Nodes)
        {
            if (n.Agent is not { HasExited: false }) return false;
            var (code, body) = await AgentCluster.GetAsync($"{n.RestUrl}/patroni");
            if (code != HttpStatusCode.OK) return false;
            var doc = JsonNode.Parse(body)!;
            if (doc["state"]?.GetValue<string>() != "running") return false;
            if (n.Name == leader) { if (doc["role"]?.GetValue<string>() != "master") return false; }
            else if (doc["role"]?.GetValue<string>() != "replica" || !await n.IsStreamingAsync()) return false;
        }
        return true;
    }

    private static async Task<string> DescribeAsync(AgentCluster cluster)
    {
        var parts = new List<string>();
        try { parts.Add($"leader {await cluster.LeaderAsync() ?? "none"}"); } catch (Exception e) { parts.Add($"leader ? ({e.Message})"); }
        foreach (var n in cluster.Nodes)
        {
            try
            {
                var (code, body) = await AgentCluster.GetAsync($"{n.RestUrl}/patroni");
                var doc = JsonNode.Parse(body)!;
                parts.Add($"{n.Name} {(int)code} {doc["role"]} {doc["state"]}");
            }
            catch (Exception e) { parts.Add($"{n.Name} ? ({e.GetType().Name}; agent {(n.Agent is { HasExited: false } ? "running" : "exited")})"); }
        }
        return string.Join("; ", parts);
    }

    /// <summary>Acknowledged inserts the current leader lacks that were not already counted as lost.</summary>
    private static async Task<int> NewlyLostAsync(AgentCluster cluster, IReadOnlyList<WriteProbe> probes, HashSet<long> lost)
    {
        try
        {
            var leader = cluster.Node((await cluster.LeaderAsync())!);
            var acked = probes.SelectMany(p => p.Acknowledged).ToList();
            var present = new HashSet<long>();
            await using var conn = leader.Connect();
            await conn.OpenAsync();
            await using (var cmd = new NpgsqlCommand($"SELECT id FROM {WriteProbe.Table}", conn) { CommandTimeout = 30 })
            await using (var reader = await cmd.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) present.Add(reader.GetInt64(0));
            }
            var before = lost.Count;
            foreach (var id in acked) if (!present.Contains(id)) lost.Add(id);
            return lost.Count - before;
        }
        catch (Exception)
        {
            return 0;
        }
    }
}
