using System.Diagnostics;
using PgWarden.IntegrationTests.Faults;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>
/// The fast profile of docs/failover.md (ttl 4, loop_wait 1, retry_timeout 1): the leader is partitioned from etcd and
/// from its peers (iptables owner rules for its OS user plus its open connections, as the fault suite does). It must
/// stop accepting writes before a replica can take the lock, a replica takes over, and a checker opening fresh
/// connections to every node every 100 ms never sees two nodes accept writes in the same round — nor the old leader
/// accept one after the new leader's first.
/// </summary>
public sealed class FastProfilePartitionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Ttl = 4, LoopWait = 1, RetryTimeout = 1;
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        NodePartition.HealAll();
        _cluster = await AgentCluster.StartAsync("itfast", 3, ttl: Ttl, loopWait: LoopWait, retryTimeout: RetryTimeout);
        await WriteProbe.PrepareClusterAsync(_cluster);
    }

    public async Task DisposeAsync()
    {
        NodePartition.HealAll();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Fast_profile_leader_partitioned_from_etcd_and_peers_hands_over_with_no_overlap_of_writable_primaries()
    {
        var leader = _cluster.Node((await _cluster.LeaderAsync())!);
        await using var checker = new SplitBrainChecker(_cluster);
        checker.Start();
        await using var probe = new WriteProbe(_cluster);
        probe.Start();
        await Wait.UntilAsync(() => checker.Rounds > 5 && probe.Acknowledged.Count > 20, TimeSpan.FromSeconds(10), "checker and probe to run");
        // Let the checker see ~3 s of quiet rounds (one every ~100 ms) at the fast timings first: a false fence under
        // load shows here too.
        var quietFrom = checker.Rounds;
        await Wait.UntilAsync(() => checker.Rounds > quietFrom + 30, TimeSpan.FromSeconds(15), "30 quiet checker rounds before the cut");

        var cutAt = checker.Elapsed;
        var sw = Stopwatch.StartNew();
        string newLeader;
        TimeSpan newLeaderAt;
        try
        {
            var rules = NodePartition.Cut(_cluster, leader, "all");
            output.WriteLine($"partitioned {leader.Name} from etcd and its peers ({rules} rules), ttl {Ttl}, loop_wait {LoopWait}, retry_timeout {RetryTimeout}");
            await Wait.UntilAsync(async () => await _cluster.LeaderAsync() is { } l && l != leader.Name, TimeSpan.FromSeconds(20), "a replica to take the lock");
            newLeaderAt = sw.Elapsed;
            newLeader = (await _cluster.LeaderAsync())!;
            await Wait.UntilAsync(() => checker.AcceptedPerNode.GetValueOrDefault(newLeader) > 3, TimeSpan.FromSeconds(15), $"{newLeader} to accept writes");
        }
        finally
        {
            NodePartition.HealAll();
        }

        var oldLast = checker.AcceptedAt(leader.Name).Where(t => t >= cutAt).DefaultIfEmpty(cutAt).Max();
        var newFirst = checker.AcceptedAt(newLeader).Where(t => t >= cutAt).Min();
        output.WriteLine($"{leader.Name} last accepted a write {(oldLast - cutAt).TotalSeconds:F2} s after the cut; " +
                         $"{newLeader} took the lock after {newLeaderAt.TotalSeconds:F2} s and first accepted a write {(newFirst - cutAt).TotalSeconds:F2} s after the cut");

        // Healed: the old leader comes back as a replica of the new one.
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        await probe.StopAsync();
        output.WriteLine($"write gap through the probe: {probe.LongestGap().TotalSeconds:F2} s; checker rounds {checker.Rounds}; " +
                         $"overlapping rounds {checker.Violations.Count}");
        Assert.Empty(checker.Violations);
        Assert.True(oldLast < newFirst, $"{leader.Name} accepted a write at {oldLast.TotalSeconds:F2} s, after {newLeader}'s first at {newFirst.TotalSeconds:F2} s");
        Assert.NotEqual(leader.Name, newLeader);
    }
}
