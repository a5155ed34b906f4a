using System.Diagnostics;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Safety;

/// <summary>
/// failsafe_mode against a real etcd: the primary stays up through a DCS outage while every member confirms it over
/// POST /failsafe, for each way etcd fails (connection refused: etcd killed; timeout: etcd SIGSTOPped; no leader: a
/// 3-member etcd losing quorum); with one member unreachable as well it demotes.
/// </summary>
public sealed class FailsafeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> FailsafeOn = new() { ["failsafe_mode"] = "true" };

    private async Task<(ClusterNode Leader, List<ClusterNode> Replicas)> ReadyAsync(AgentCluster cluster)
    {
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        await Wait.UntilAsync(async () => (await cluster.ReadDcsAsync()).TryGetValue("failsafe", out var f) && cluster.Nodes.All(n => f.Contains($"\"{n.Name}\"")),
            TimeSpan.FromSeconds(30), "the failsafe key to list every member");
        var leader = cluster.Node((await cluster.LeaderAsync())!);
        return (leader, cluster.Nodes.Where(n => n != leader).ToList());
    }

    /// <summary>Holds for the given time and asserts the leader stays a writable primary throughout.</summary>
    private async Task AssertStaysPrimaryAsync(ClusterNode leader, TimeSpan hold, string outage)
    {
        var sw = Stopwatch.StartNew();
        var checks = 0;
        while (sw.Elapsed < hold)
        {
            Assert.True(await SafetyHelpers.IsWritablePrimaryAsync(leader), $"{outage}: the primary stopped being writable after {sw.Elapsed.TotalSeconds:F1} s");
            checks++;
            await Task.Delay(500);
        }
        var status = await SafetyHelpers.PatroniAsync(leader);
        output.WriteLine($"{outage}: primary writable for {hold.TotalSeconds:0} s ({checks} checks); failsafe_mode_is_active={status["failsafe_mode_is_active"]}");
        Assert.True(status["failsafe_mode_is_active"]?.GetValue<bool>() == true, "failsafe_mode_is_active must be reported");
    }

    [Fact]
    public async Task Primary_survives_etcd_refusing_and_hanging_while_every_member_confirms_and_demotes_when_one_does_not()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itfs", 3, extraDcs: FailsafeOn);
        using var dump = new LogDump(output, cluster);
        var (leader, replicas) = await ReadyAsync(cluster);
        // 1.5 x ttl: well past the moment the lock would have expired without failsafe.
        var hold = TimeSpan.FromSeconds(1.5 * cluster.Spec.Ttl);

        // POST /failsafe by hand: a running primary refuses, a replica accepts and says where it is.
        var body = """{"name":"node9","conn_url":"postgres://x:5432/postgres","api_url":"http://x:8008/patroni","slots":{}}""";
        using (var http = new HttpClient())
        {
            using var toLeader = await http.PostAsync($"{leader.RestUrl}/failsafe", new StringContent(body));
            Assert.Equal(500, (int)toLeader.StatusCode);
            Assert.Equal("Running as a leader", await toLeader.Content.ReadAsStringAsync());
            using var toReplica = await http.PostAsync($"{replicas[0].RestUrl}/failsafe", new StringContent(body));
            Assert.Equal(200, (int)toReplica.StatusCode);
            Assert.Equal("Accepted", await toReplica.Content.ReadAsStringAsync());
            Assert.True(toReplica.Headers.TryGetValues("lsn", out var lsn) && long.Parse(lsn.First(), System.Globalization.CultureInfo.InvariantCulture) > 0);
            output.WriteLine($"POST /failsafe: leader 500 'Running as a leader'; replica 200 'Accepted', lsn {lsn!.First()}");
        }

        // Connection refused: etcd killed.
        cluster.Etcd.Kill(0);
        await AssertStaysPrimaryAsync(leader, hold, "etcd killed (connection refused)");
        Assert.Contains("failsafe: DCS unreachable (ConnectionRefused)", leader.Agent!.Output);
        await cluster.Etcd.RestartAsync(0, CancellationToken.None);
        (leader, replicas) = await ReadyAsync(cluster);

        // Timeout: etcd SIGSTOPped (its socket accepts, nothing answers).
        cluster.Etcd.Stop(0);
        try
        {
            await AssertStaysPrimaryAsync(leader, hold, "etcd stopped (timeout)");
            Assert.Contains("failsafe: DCS unreachable (Timeout)", leader.Agent!.Output);
        }
        finally { cluster.Etcd.Cont(0); }
        (leader, replicas) = await ReadyAsync(cluster);

        // One member unreachable too (its agent stopped): not every member confirms, the primary demotes.
        var silent = replicas[0];
        silent.Agent!.Signal("STOP");
        try
        {
            var sw = Stopwatch.StartNew();
            cluster.Etcd.Kill(0);
            await Wait.UntilAsync(async () => !await SafetyHelpers.IsWritablePrimaryAsync(leader), TimeSpan.FromSeconds(cluster.Spec.Ttl),
                "the primary to demote when a member cannot confirm it", TimeSpan.FromMilliseconds(200));
            output.WriteLine($"etcd killed and {silent.Name} silent: primary read-only {sw.Elapsed.TotalSeconds:F1} s after the kill (ttl {cluster.Spec.Ttl} s)");
            // Whichever comes first demotes it: the failsafe refusal (POSTs to a hung agent take 2 x 2 s) or the
            // self-fencing deadline, which a refused confirmation does not move.
            await Wait.UntilAsync(() => leader.Agent!.Output.Contains("not every member confirmed us") || leader.Agent.Output.Contains("self-fencing"),
                TimeSpan.FromSeconds(15), "the failsafe refusal or the fence in the leader's log");
            output.WriteLine($"demoted by: {(leader.Agent!.Output.Contains("self-fencing") ? "the self-fencing deadline" : "the failsafe refusal")}" +
                             $"{(leader.Agent.Output.Contains("not every member confirmed us") ? "; failsafe refusal logged" : "")}");
        }
        finally
        {
            silent.Agent!.Signal("CONT");
        }
        await cluster.Etcd.RestartAsync(0, CancellationToken.None);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        dump.Passed();
    }

    [Fact]
    public async Task Primary_survives_an_etcd_cluster_without_quorum_while_every_member_confirms()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itfsq", 3, extraDcs: FailsafeOn, etcdMembers: 3);
        using var dump = new LogDump(output, cluster);
        var (leader, _) = await ReadyAsync(cluster);
        cluster.Etcd.Kill(1);
        cluster.Etcd.Kill(2);
        await AssertStaysPrimaryAsync(leader, TimeSpan.FromSeconds(1.5 * cluster.Spec.Ttl), "etcd lost quorum (no leader)");
        var log = leader.Agent!.Output;
        var kinds = new[] { "NoLeader", "Timeout", "ConnectionRefused" }.Where(k => log.Contains($"failsafe: DCS unreachable ({k})")).ToList();
        output.WriteLine($"error kinds that triggered failsafe: {string.Join(", ", kinds)}");
        Assert.Contains("NoLeader", kinds);
        dump.Passed();
    }

    /// <summary>
    /// etcd authentication switched on under the running agents: every request is refused as unauthenticated
    /// (AuthFailed). etcd 3.4 does not check auth on lease keepalives, so the leader's lease, and with it the lock,
    /// stays alive: the primary legitimately keeps running, and the replicas, which cannot read the DCS, never race.
    /// </summary>
    [Fact]
    public async Task Etcd_refusing_the_agents_as_unauthenticated_is_told_apart_and_keeps_one_primary()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itfsa", 3, extraDcs: FailsafeOn);
        using var dump = new LogDump(output, cluster);
        var (leader, replicas) = await ReadyAsync(cluster);
        var endpoint = "http://" + cluster.Etcd.Endpoints[0];
        string Etcdctl(params string[] args)
        {
            var (code, text) = OsUser.Run(true, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoint, .. args]);
            Assert.True(code == 0, $"etcdctl {string.Join(' ', args)}: {text}");
            return text;
        }
        Etcdctl("user", "add", "root", "--new-user-password=root-secret");
        Etcdctl("auth", "enable");
        try
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(1.5 * cluster.Spec.Ttl))
            {
                Assert.True(await SafetyHelpers.IsWritablePrimaryAsync(leader), $"the primary stopped after {sw.Elapsed.TotalSeconds:F1} s");
                foreach (var r in replicas) Assert.False(await SafetyHelpers.IsWritablePrimaryAsync(r), $"{r.Name} became a second primary");
                await Task.Delay(500);
            }
            foreach (var n in cluster.Nodes)
                Assert.Contains("DCS is not accessible (AuthFailed)", n.Agent!.Output);
            output.WriteLine($"auth enabled for {sw.Elapsed.TotalSeconds:0} s: every agent logged AuthFailed; one writable primary throughout");
        }
        finally
        {
            Etcdctl("--user", "root:root-secret", "auth", "disable");
        }
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        dump.Passed();
    }
}
