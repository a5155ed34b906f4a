using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Dcs;
using PgWarden.Dcs.ZooKeeper;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>One standalone ZooKeeper 3.8 on NET.51 for the client and DCS tests; each test uses its own paths.</summary>
public sealed class StandaloneZooKeeperFixture : IAsyncLifetime
{
    public ZooKeeperEnsemble Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await ZooKeeperEnsemble.StartAsync([AgentCluster.ZooKeeperAddress(1)], "/var/tmp/pgwarden-it", CancellationToken.None);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The wire client and ZooKeeperDcs against a real server.</summary>
public sealed class ZooKeeperDcsTests(StandaloneZooKeeperFixture fixture, ITestOutputHelper output) : IClassFixture<StandaloneZooKeeperFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private ZooKeeperClient NewClient(int sessionSeconds = 10) =>
        new(new ZooKeeperClientOptions { Hosts = fixture.Server.Hosts, SessionTimeout = TimeSpan.FromSeconds(sessionSeconds) }, TimeProvider.System, NullLogger.Instance);

    private ZooKeeperDcs NewDcs(string scope, string name, int ttl = 4)
    {
        var dcs = new ZooKeeperDcs(NewClient(ttl), "/service/", scope, name, TimeProvider.System, NullLogger.Instance);
        dcs.Configure(ttl, 1, 3);
        return dcs;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Create_get_set_with_version_delete_children_and_multi()
    {
        await using var zk = NewClient();
        var root = "/t" + Guid.NewGuid().ToString("N")[..8];
        await zk.CreateWithParentsAsync(root + "/a/b", B("hello"), ZkCreateMode.Persistent, None);
        var (data, stat) = (await zk.GetDataAsync(root + "/a/b", false, None))!.Value;
        Assert.Equal("hello", Encoding.UTF8.GetString(data));
        Assert.Equal(0, stat.Version);
        Assert.Equal(0, stat.EphemeralOwner);

        Assert.Equal(1, (await zk.SetDataAsync(root + "/a/b", B("v1"), 0, None)).Version);
        var stale = await Assert.ThrowsAsync<ZooKeeperException>(() => zk.SetDataAsync(root + "/a/b", B("v2"), 0, None));
        Assert.Equal(ZkError.BadVersion, stale.Code);
        var exists = await Assert.ThrowsAsync<ZooKeeperException>(() => zk.CreateAsync(root + "/a/b", [], ZkCreateMode.Persistent, None));
        Assert.Equal(ZkError.NodeExists, exists.Code);

        Assert.Equal(["b"], await zk.GetChildrenAsync(root + "/a", false, None));
        Assert.Null(await zk.GetChildrenAsync(root + "/missing", false, None));
        Assert.Null(await zk.GetDataAsync(root + "/missing", false, None));
        Assert.Null(await zk.ExistsAsync(root + "/missing", false, None));

        // multi: a failed check rolls the whole transaction back.
        var failed = await zk.MultiAsync([new ZkOperation.Check(root + "/a/b", 0), new ZkOperation.SetData(root + "/a/b", B("no"), -1)], None);
        Assert.Contains(failed, r => r.Error == ZkError.BadVersion);
        Assert.Equal("v1", Encoding.UTF8.GetString((await zk.GetDataAsync(root + "/a/b", false, None))!.Value.Data));
        var ok = await zk.MultiAsync([new ZkOperation.Delete(root + "/a/b", 1), new ZkOperation.Create(root + "/a/c", B("c"), ZkCreateMode.Persistent)], None);
        Assert.All(ok, r => Assert.Equal(ZkError.Ok, r.Error));
        Assert.Equal(["c"], await zk.GetChildrenAsync(root + "/a", false, None));

        await zk.DeleteRecursiveAsync(root, None);
        Assert.Null(await zk.ExistsAsync(root, false, None));
    }

    [Fact]
    public async Task Ephemeral_znode_dies_with_its_session_and_the_watch_fires()
    {
        var path = "/t" + Guid.NewGuid().ToString("N")[..8];
        await using var watcher = NewClient();
        await using var owner = NewClient();
        await owner.CreateAsync(path, B("node1"), ZkCreateMode.Ephemeral, None);
        var stat = await watcher.ExistsAsync(path, true, None);
        Assert.Equal(owner.SessionId, stat!.EphemeralOwner);
        var fired = new TaskCompletionSource<ZkWatchEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.WatchFired += e => fired.TrySetResult(e);
        var sw = Stopwatch.StartNew();
        await owner.DisposeAsync();   // closes the session
        var e = await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
        output.WriteLine($"watch fired {sw.ElapsedMilliseconds} ms after the session closed");
        Assert.Equal(new ZkWatchEvent(ZkEventType.NodeDeleted, 3, path), e);
    }

    [Fact]
    public async Task Leader_lock_compare_and_set_and_sync_deleted_as_empty_object()
    {
        var scope = "t" + Guid.NewGuid().ToString("N")[..8];
        await using var a = NewDcs(scope, "node1");
        await using var b = NewDcs(scope, "node2");
        Assert.True(await a.InitializeAsync(true, "", None));
        Assert.False(await b.InitializeAsync(true, "", None));
        await a.InitializeAsync(false, "7000000000000000001", None);
        Assert.True(await a.AttemptToAcquireLeaderAsync(None));
        Assert.False(await b.AttemptToAcquireLeaderAsync(None));
        await a.TouchMemberAsync(EtcdTestSupport.Member("node1"), None);
        await b.TouchMemberAsync(EtcdTestSupport.Member("node2"), None);
        Assert.True(await a.SetConfigAsync("""{"ttl":4}""", null, None));

        var view = await b.GetClusterAsync(None);
        Assert.Equal("7000000000000000001", view.Initialize);
        Assert.Equal("node1", view.Leader!.Name);
        Assert.Equal(a.Client.SessionId, view.Leader.LeaseId);
        Assert.Equal(["node1", "node2"], view.Members.Select(m => m.Name));
        Assert.True(await a.UpdateLeaderAsync(view.Leader, None));
        Assert.False(await b.UpdateLeaderAsync(view.Leader, None));

        var version = view.Config!.ModRevision;
        Assert.True(await b.SetConfigAsync("""{"ttl":5}""", version, None));
        Assert.False(await a.SetConfigAsync("""{"ttl":6}""", version, None));

        Assert.True(await a.SetSyncAsync("""{"leader":"node1","sync_standby":"node2"}""", null, None));
        Assert.True(await a.SetSyncAsync(null, null, None));
        var raw = await a.Client.GetDataAsync($"/service/{scope}/sync", false, None);
        Assert.Equal("{}", Encoding.UTF8.GetString(raw!.Value.Data));

        Assert.False(await b.DeleteLeaderAsync(null, None));
        Assert.True(await a.DeleteLeaderAsync(12345, None));
        view = await b.GetClusterAsync(None);
        Assert.Null(view.Leader);
        Assert.Equal(12345, view.LeaderOptime);
        await a.DeleteClusterAsync(None);
    }

    [Fact]
    public async Task Watch_on_the_leader_wakes_the_waiting_replica()
    {
        var scope = "t" + Guid.NewGuid().ToString("N")[..8];
        await using var a = NewDcs(scope, "node1");
        await using var b = NewDcs(scope, "node2");
        Assert.True(await a.AttemptToAcquireLeaderAsync(None));
        await b.GetClusterAsync(None);    // sets the watches
        while (await b.WaitForChangeAsync(TimeSpan.Zero, None)) { }
        var sw = Stopwatch.StartNew();
        var wait = b.WaitForChangeAsync(TimeSpan.FromSeconds(10), None);
        await a.DeleteLeaderAsync(null, None);
        Assert.True(await wait);
        output.WriteLine($"replica woken {sw.ElapsedMilliseconds} ms after the leader key was deleted");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        await a.DeleteClusterAsync(None);
    }

    [Fact]
    public async Task Expired_session_loses_the_leader_lock_and_renewal_says_so()
    {
        var scope = "t" + Guid.NewGuid().ToString("N")[..8];
        await using var a = NewDcs(scope, "node1", ttl: 4);
        await using var b = NewDcs(scope, "node2", ttl: 4);
        Assert.True(await a.AttemptToAcquireLeaderAsync(None));
        var leader = (await b.GetClusterAsync(None)).Leader;
        Assert.Equal("node1", leader!.Name);

        // No server for longer than the session timeout: the holder must count its lock as lost, and the znode
        // must go (a restarted server resumes sessions from its log, so the client itself closes the old one).
        var sw = Stopwatch.StartNew();
        fixture.Server.Kill(0);
        await Task.Delay(TimeSpan.FromSeconds(5));
        fixture.Server.Start(0);
        await fixture.Server.WaitServingAsync(TimeSpan.FromSeconds(60), None);
        await Wait.UntilAsync(async () =>
        {
            try { return (await b.GetClusterAsync(None)).Leader is null; }
            catch (DcsException) { return false; }
        }, TimeSpan.FromSeconds(30), "the leader znode to vanish with its session");
        output.WriteLine($"leader znode gone {sw.Elapsed.TotalSeconds:F1} s after the server restart");
        await Wait.UntilAsync(async () =>
        {
            try { return !await a.UpdateLeaderAsync(leader, None); }
            catch (DcsException) { return false; }
        }, TimeSpan.FromSeconds(30), "the renewal to report the lock lost");
        output.WriteLine($"renewal reported the lock lost after {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(await b.AttemptToAcquireLeaderAsync(None));
        await b.DeleteClusterAsync(None);
    }
}
