using System.Diagnostics;
using System.Net;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>HAProxy must stop sending writes to a dead primary at once: /primary answers from a fast local probe.</summary>
public sealed class LeaderPostmasterDeathTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("itdeath", 2);
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Killing_the_leaders_postmaster_turns_its_primary_endpoint_to_503_within_a_second()
    {
        var leader = _cluster.Node((await _cluster.LeaderAsync())!);
        Assert.Equal(HttpStatusCode.OK, (await AgentCluster.GetAsync($"{leader.RestUrl}/primary")).Code);
        var pid = leader.PostmasterPid() ?? throw new InvalidOperationException("leader has no postmaster");

        var sw = Stopwatch.StartNew();
        OsUser.Run("kill", "-9", pid.ToString());
        await Wait.UntilAsync(async () => (await AgentCluster.GetAsync($"{leader.RestUrl}/primary")).Code == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(1), "/primary to answer 503 after kill -9 of the postmaster", TimeSpan.FromMilliseconds(20));
        output.WriteLine($"/primary turned 503 {sw.ElapsedMilliseconds} ms after kill -9");

        // The agent, still holding the lock, brings its primary back (Patroni's recover()).
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_hung_postmaster_turns_the_primary_endpoint_to_503_within_a_second_and_back_when_it_resumes()
    {
        var leader = _cluster.Node((await _cluster.LeaderAsync())!);
        var pid = leader.PostmasterPid() ?? throw new InvalidOperationException("leader has no postmaster");
        var sw = Stopwatch.StartNew();
        OsUser.Run("kill", "-STOP", pid.ToString());
        try
        {
            await Wait.UntilAsync(async () => (await AgentCluster.GetAsync($"{leader.RestUrl}/primary")).Code == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(1), "/primary to answer 503 after SIGSTOP of the postmaster", TimeSpan.FromMilliseconds(20));
            output.WriteLine($"/primary turned 503 {sw.ElapsedMilliseconds} ms after SIGSTOP");
        }
        finally
        {
            OsUser.Run("kill", "-CONT", pid.ToString());
        }
        await Wait.UntilAsync(async () => (await AgentCluster.GetAsync($"{leader.RestUrl}/primary")).Code == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "/primary to answer 200 again after SIGCONT");
    }
}
