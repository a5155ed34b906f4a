using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>SIGTERM stops PostgreSQL cleanly; the leader then releases its lock and every agent exits 0.</summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("itstop", 3);
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Sigterm_to_every_agent_leaves_no_postgres_process_and_no_leader_key()
    {
        Assert.NotNull(await _cluster.LeaderAsync());
        foreach (var node in _cluster.Nodes) node.Agent!.Signal("TERM");
        foreach (var node in _cluster.Nodes)
        {
            Assert.True(await node.Agent!.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"{node.Name}'s agent did not exit after SIGTERM");
            Assert.True(node.Agent.ExitCode == 0, $"{node.Name}'s agent exited {node.Agent.ExitCode}:\n{node.Agent.Output}");
            // pg_ctl stop -w returns once postmaster.pid is gone; the postmaster itself exits a moment later.
            await Wait.UntilAsync(() => node.PostgresProcesses().Count == 0, TimeSpan.FromSeconds(5), $"{node.Name}'s postgres processes to exit");
            Assert.Null(node.PostmasterPid());
        }
        Assert.False((await _cluster.ReadDcsAsync()).ContainsKey("leader"), "the leader key is still there");
    }
}
