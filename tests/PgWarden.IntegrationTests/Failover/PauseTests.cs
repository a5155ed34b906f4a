using System.Diagnostics;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>Maintenance mode: while paused the death of the leader causes no failover; after resume it does.</summary>
public sealed class PauseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("itpause", 3);
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task While_paused_killing_the_leader_causes_no_failover_and_after_resume_it_does()
    {
        var leader = _cluster.Node((await _cluster.LeaderAsync())!);
        var config = _cluster.Nodes[0].ConfigPath;
        var (code, text) = Scenario.Pgwarden("pause", "-c", config, "--wait");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("Success: cluster management is paused", text);
        (code, text) = Scenario.Pgwarden("pause", "-c", config);
        Assert.Equal(1, code);
        Assert.Contains("Cluster is already paused", text);
        (_, text) = Scenario.Pgwarden("list", "-c", config);
        Assert.Contains("Maintenance mode: on", text);

        Scenario.KillAgentAndPostmaster(leader);
        // The lease expires after ttl (10 s); give the replicas a few loops more to (wrongly) race.
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(15))
        {
            var holder = await _cluster.LeaderAsync();
            Assert.True(holder is null || holder == leader.Name, $"{holder} took the lock while paused");
            await Task.Delay(250);
        }
        Assert.Null(await _cluster.LeaderAsync());
        output.WriteLine("no failover in 15 s while paused (ttl 10)");

        sw.Restart();
        (code, text) = Scenario.Pgwarden("resume", "-c", config, "--wait");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        await Wait.UntilAsync(async () => await _cluster.LeaderAsync() is { } l && l != leader.Name, TimeSpan.FromSeconds(20), "a failover after resume");
        output.WriteLine($"after resume {await _cluster.LeaderAsync()} took the lock in {sw.Elapsed.TotalSeconds:F1} s");
    }
}
