using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Dcs;
using PgWarden.Dcs.EtcdV2;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>One etcd 3.4 with --enable-v2 on NET.5 for the v2 DCS tests; each test uses its own scope.</summary>
public sealed class EtcdV2Fixture : IAsyncLifetime
{
    public EtcdCluster Etcd { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Etcd = await EtcdCluster.StartAsync([AgentCluster.EtcdAddress], "/var/tmp/pgwarden-it", CancellationToken.None, enableV2: true);

    public async Task DisposeAsync() => await Etcd.DisposeAsync();
}

public sealed class EtcdV2DcsTests(EtcdV2Fixture fixture, ITestOutputHelper output) : IClassFixture<EtcdV2Fixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private EtcdV2Dcs NewDcs(string scope, string name, int ttl = 3)
    {
        var dcs = new EtcdV2Dcs(new EtcdV2Client(fixture.Etcd.Endpoints, null, null, "test"), "/service/", scope, name, TimeProvider.System, NullLogger.Instance);
        dcs.Configure(ttl, 1, 3);
        return dcs;
    }

    [Fact]
    public async Task Leader_ttl_prevexist_prevvalue_and_previndex_compare_and_set()
    {
        var scope = EtcdTestSupport.NewScope();
        await using var a = NewDcs(scope, "node1");
        await using var b = NewDcs(scope, "node2");
        var empty = await a.GetClusterAsync(None);     // the directory does not exist yet: an empty cluster, not an error
        Assert.Equal((null, null, 0), (empty.Initialize, empty.Leader, empty.Members.Count));
        Assert.True(await a.InitializeAsync(true, "", None));
        Assert.False(await b.InitializeAsync(true, "", None));
        Assert.True(await a.AttemptToAcquireLeaderAsync(None));
        Assert.False(await b.AttemptToAcquireLeaderAsync(None));
        Assert.True(await a.UpdateLeaderAsync(null, None));
        Assert.False(await b.UpdateLeaderAsync(null, None));
        await a.TouchMemberAsync(EtcdTestSupport.Member("node1"), None);
        Assert.True(await a.SetConfigAsync("""{"ttl":3}""", null, None));

        var view = await b.GetClusterAsync(None);
        Assert.Equal("node1", view.Leader!.Name);
        Assert.Equal(["node1"], view.Members.Select(m => m.Name));
        var version = view.Config!.ModRevision;
        Assert.True(await b.SetConfigAsync("""{"ttl":4}""", version, None));
        Assert.False(await a.SetConfigAsync("""{"ttl":5}""", version, None));
        Assert.False(await a.SetFailoverAsync("{}", 1, None));     // prevIndex on a missing key

        // Not renewed: the TTL removes leader and member.
        var sw = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await b.GetClusterAsync(None)) is { Leader: null, Members.Count: 0 }, TimeSpan.FromSeconds(10), "the TTL to expire leader and member");
        output.WriteLine($"leader key expired {sw.Elapsed.TotalSeconds:F1} s after the last renewal (ttl 3)");
        // A holder renewing after expiry takes the key again when nobody else did (Patroni's behaviour).
        Assert.True(await a.UpdateLeaderAsync(null, None));
        Assert.True(await a.DeleteLeaderAsync(42, None));
        Assert.Equal(42, (await b.GetClusterAsync(None)).LeaderOptime);
        await a.DeleteClusterAsync(None);
    }

    [Fact]
    public async Task Long_poll_wakes_on_the_leader_key_but_not_on_member_refreshes()
    {
        var scope = EtcdTestSupport.NewScope();
        await using var a = NewDcs(scope, "node1", ttl: 10);
        await using var b = NewDcs(scope, "node2", ttl: 10);
        await b.GetClusterAsync(None);
        await a.TouchMemberAsync(EtcdTestSupport.Member("node1"), None);
        Assert.False(await b.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), None));
        await b.GetClusterAsync(None);
        var wait = b.WaitForChangeAsync(TimeSpan.FromSeconds(10), None);
        var sw = Stopwatch.StartNew();
        await a.TouchMemberAsync(EtcdTestSupport.Member("node1", "starting"), None);
        Assert.True(await a.AttemptToAcquireLeaderAsync(None));
        Assert.True(await wait);
        output.WriteLine($"woken {sw.ElapsedMilliseconds} ms after the leader key was written");
        await a.DeleteClusterAsync(None);
    }
}
