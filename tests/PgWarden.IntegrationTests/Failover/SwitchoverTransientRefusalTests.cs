using System.Diagnostics;
using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Lab;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>The cluster of <see cref="SwitchoverTransientRefusalTests"/> (etcd v3, ttl 10, loop_wait 2, retry_timeout 3).</summary>
public sealed class TransientRefusalCluster : IAsyncLifetime
{
    public AgentCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await AgentCluster.StartAsync("itfotr", 3);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The leader's handling of a failover key whose candidate does not answer GET /patroni (its agent frozen, as a loaded
/// machine can make it for a moment): it keeps the request and looks again for loop_wait + retry_timeout, so a brief
/// stall no longer drops the switchover (the lab demo's step 4 under CI load); past that it drops it and says why.
/// The key is written straight into etcd, as patronictl does when the API cannot be reached, so the REST pre-check
/// (which re-probes by itself) is not involved.
/// </summary>
public sealed class SwitchoverTransientRefusalTests(TransientRefusalCluster fixture, ITestOutputHelper output) : IClassFixture<TransientRefusalCluster>
{
    private AgentCluster Cluster => fixture.Cluster;

    private void PutFailoverKey(string leader, string candidate) =>
        OsUsers.Run("etcdctl", "--endpoints", string.Join(",", Cluster.Etcd.Endpoints), "put",
            $"/service/{Cluster.Scope}/failover", $$"""{"leader":"{{leader}}","member":"{{candidate}}"}""");

    [Fact]
    public async Task A_briefly_frozen_candidate_still_gets_the_switchover_and_a_longer_freeze_drops_it_with_the_reason_logged()
    {
        if (!PgTestUser.IsRoot) return;
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        var candidate = Cluster.Nodes.First(n => n != leader);

        // 1. The candidate's agent is frozen while the leader first looks: it keeps the request and looks again.
        candidate.Agent!.Signal("STOP");
        var sw = Stopwatch.StartNew();
        try
        {
            PutFailoverKey(leader.Name, candidate.Name);
            await Wait.UntilAsync(() => Task.FromResult(leader.Agent!.Output.Contains("no healthy member yet, looking again", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), $"{leader.Name} to keep the request while {candidate.Name} does not answer", TimeSpan.FromMilliseconds(100));
            output.WriteLine($"{leader.Name} kept the request {sw.Elapsed.TotalSeconds:0.0} s after it was written");
        }
        finally { candidate.Agent!.Signal("CONT"); }
        await Wait.UntilAsync(async () => await Cluster.LeaderAsync() == candidate.Name, TimeSpan.FromSeconds(30),
            $"{candidate.Name} to become the leader once it answers again");
        output.WriteLine($"{candidate.Name} leads {sw.Elapsed.TotalSeconds:0.0} s after the request");
        Assert.DoesNotContain("dropping the failover/switchover request", leader.Agent!.Output, StringComparison.Ordinal);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));

        // 2. Frozen for longer than loop_wait + retry_timeout (5 s): the request is dropped, and the log says why.
        var newLeader = candidate;
        var frozen = leader;
        frozen.Agent!.Signal("STOP");
        sw.Restart();
        TimeSpan dropped;
        try
        {
            PutFailoverKey(newLeader.Name, frozen.Name);
            await Wait.UntilAsync(async () => !(await Cluster.ReadDcsAsync()).TryGetValue("failover", out var v) || v is "" or "{}",
                TimeSpan.FromSeconds(20), $"{newLeader.Name} to drop the request", TimeSpan.FromMilliseconds(100));
            dropped = sw.Elapsed;
        }
        finally { frozen.Agent!.Signal("CONT"); }
        var line = newLeader.Agent!.Output.Split('\n').LastOrDefault(l => l.Contains("dropping the failover/switchover request", StringComparison.Ordinal));
        output.WriteLine($"dropped after {dropped.TotalSeconds:0.0} s: {line}");
        Assert.NotNull(line);
        Assert.Contains($"{frozen.Name}: did not answer GET", line, StringComparison.Ordinal);
        Assert.True(dropped >= TimeSpan.FromSeconds(4), $"dropped after {dropped.TotalSeconds:0.0} s, before loop_wait + retry_timeout");
        Assert.Equal(newLeader.Name, await Cluster.LeaderAsync());
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
    }
}
