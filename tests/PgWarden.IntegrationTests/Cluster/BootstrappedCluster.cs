using System.Diagnostics;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>A 3-node cluster bootstrapped once and shared by the read-only scenario tests of one class.</summary>
public sealed class BootstrappedCluster : IAsyncLifetime
{
    public AgentCluster Cluster { get; private set; } = null!;
    public TimeSpan BootstrapTime { get; private set; }

    public async Task InitializeAsync()
    {
        var sw = Stopwatch.StartNew();
        Cluster = await AgentCluster.StartAsync("itcore", 3);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        BootstrapTime = sw.Elapsed;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
