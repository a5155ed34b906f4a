using System.Diagnostics;
using PgWarden.Dcs;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>
/// A DCS backend as a type, so one scenario class runs on every store: write the scenario as an abstract generic
/// class over TBackend, then one empty subclass per backend (xunit runs inherited facts in each subclass).
/// </summary>
public interface IBackend
{
    static abstract DcsKind Kind { get; }
    /// <summary>Short tag for scope names ("itcore" + Tag), so clusters on different stores never share keys.</summary>
    static abstract string Tag { get; }
}

public sealed class OnEtcd3 : IBackend
{
    public static DcsKind Kind => DcsKind.Etcd3;
    public static string Tag => "e3";
}

public sealed class OnEtcdV2 : IBackend
{
    public static DcsKind Kind => DcsKind.Etcd;
    public static string Tag => "e2";
}

public sealed class OnZooKeeper : IBackend
{
    public static DcsKind Kind => DcsKind.ZooKeeper;
    public static string Tag => "zk";
}

/// <summary>A 3-node cluster on TBackend, bootstrapped once and shared by the read-only tests of one class.</summary>
public sealed class BootstrappedClusterOn<TBackend> : IAsyncLifetime where TBackend : IBackend
{
    public AgentCluster Cluster { get; private set; } = null!;
    public TimeSpan BootstrapTime { get; private set; }
    public static string Scope => "itcore" + TBackend.Tag;

    public async Task InitializeAsync()
    {
        var sw = Stopwatch.StartNew();
        Cluster = await AgentCluster.StartAsync(Scope, 3, dcs: TBackend.Kind);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        BootstrapTime = sw.Elapsed;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
