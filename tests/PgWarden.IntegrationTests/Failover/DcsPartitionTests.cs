using System.Diagnostics;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>
/// etcd unreachable from the leader only (iptables on its OS user and its open etcd connections): it must turn
/// read-only before its lock can expire, a replica takes over, and a checker opening fresh connections to every node
/// every 100 ms never sees two nodes accept a write.
/// </summary>
public sealed class DcsPartitionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        EtcdCut.RemoveLeftovers();
        _cluster = await AgentCluster.StartAsync("itpart", 3);
        await WriteProbe.PrepareClusterAsync(_cluster);
    }

    public async Task DisposeAsync()
    {
        EtcdCut.RemoveLeftovers();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Leader_cut_off_from_etcd_turns_read_only_before_its_lock_expires_and_never_two_nodes_accept_writes()
    {
        var leader = _cluster.Node((await _cluster.LeaderAsync())!);
        await using var checker = new SplitBrainChecker(_cluster);
        checker.Start();
        await using var probe = new WriteProbe(_cluster);
        probe.Start();
        await Wait.UntilAsync(() => checker.Rounds > 5 && probe.Acknowledged.Count > 20, TimeSpan.FromSeconds(10), "checker and probe to run");

        var sw = Stopwatch.StartNew();
        TimeSpan readOnlyAt, newLeaderAt;
        string newLeader;
        using (var cut = new EtcdCut(leader, AgentCluster.EtcdAddress))
        {
            output.WriteLine($"cut etcd from {leader.Name} (uid owner + {cut.CutPorts.Count} open connections)");
            await Wait.UntilAsync(() => !WritableNow(leader), TimeSpan.FromSeconds(15), $"{leader.Name} to stop accepting writes", TimeSpan.FromMilliseconds(100));
            readOnlyAt = sw.Elapsed;
            await Wait.UntilAsync(async () => await _cluster.LeaderAsync() is { } l && l != leader.Name, TimeSpan.FromSeconds(30), "a replica to take the lock");
            newLeaderAt = sw.Elapsed;
            newLeader = (await _cluster.LeaderAsync())!;
            await Wait.UntilAsync(() => checker.AcceptedPerNode.GetValueOrDefault(newLeader) > 3, TimeSpan.FromSeconds(15), $"{newLeader} to accept writes");
            output.WriteLine($"{leader.Name} read-only {readOnlyAt.TotalSeconds:F1} s after the cut; {newLeader} leader after {newLeaderAt.TotalSeconds:F1} s (ttl 10, retry_timeout 3)");
        }

        // Healed: the old leader comes back as a replica of the new one.
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(newLeader, await _cluster.LeaderAsync());
        await probe.StopAsync();
        output.WriteLine($"failover write gap after the partition: {probe.LongestGap().TotalSeconds:F1} s; checker rounds {checker.Rounds}");
        Assert.Empty(checker.Violations);
        Assert.True(readOnlyAt < TimeSpan.FromSeconds(10), $"read-only only after {readOnlyAt.TotalSeconds:F1} s: the lock (ttl 10) could have expired");
        Assert.True(readOnlyAt < newLeaderAt);
    }

    private bool WritableNow(ClusterNode node)
    {
        try
        {
            using var conn = node.Connect();
            conn.Open();
            using var cmd = new Npgsql.NpgsqlCommand($"INSERT INTO {SplitBrainChecker.Table}(node) VALUES ('probe')", conn);
            cmd.ExecuteNonQuery();
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
