using System.Diagnostics;
using PgWarden.Dcs;
using static PgWarden.IntegrationTests.Dcs.EtcdTestSupport;

namespace PgWarden.IntegrationTests.Dcs;

[Collection(EtcdCollection.Name)]
public sealed class Etcd3DcsTests(SingleEtcdFixture etcd) : IClassFixture<SingleEtcdFixture>
{
    private IReadOnlyList<string> Endpoints => etcd.Cluster.Endpoints;

    [Fact]
    public async Task Lease_expiry_removes_leader_and_member_keys()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var node = NewDcs(client, scope, "n1", watch: false, ttl: 2);
        await using var cli = NewDcs(client, scope, "", watch: false);
        await node.TouchMemberAsync(Member("n1"), default);
        Assert.True(await node.AttemptToAcquireLeaderAsync(default));
        var view = await cli.GetClusterAsync(default);
        Assert.Equal("n1", view.Leader?.Name);
        Assert.Equal(node.LeaseId, view.Leader?.LeaseId);
        Assert.Equal(node.LeaseId, view.FindMember("n1")?.LeaseId);

        // No more keepalives: both keys go with the lease.
        await WaitUntilAsync(async () =>
        {
            var v = await cli.GetClusterAsync(default);
            return v.Leader is null && v.Members.Count == 0;
        }, TimeSpan.FromSeconds(10), "the leader and member keys to expire");
    }

    [Fact]
    public async Task Renewal_keeps_the_leader_key_beyond_its_ttl()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var node = NewDcs(client, scope, "n1", watch: false, ttl: 2);
        await using var cli = NewDcs(client, scope, "", watch: false);
        Assert.True(await node.AttemptToAcquireLeaderAsync(default));
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(4))
        {
            var current = (await cli.GetClusterAsync(default)).Leader;
            Assert.Equal("n1", current?.Name);
            Assert.True(await node.UpdateLeaderAsync(current, default));
            await Task.Delay(500); // a 2 s TTL renewed every half second
        }
        Assert.Equal("n1", (await cli.GetClusterAsync(default)).Leader?.Name);
    }

    [Fact]
    public async Task Only_one_of_two_racing_nodes_acquires_and_only_the_holder_deletes()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var a = NewDcs(client, scope, "a", watch: false, ttl: 5);
        await using var b = NewDcs(client, scope, "b", watch: false, ttl: 5);
        await using var cli = NewDcs(client, scope, "", watch: false);

        var results = await Task.WhenAll(a.AttemptToAcquireLeaderAsync(default), b.AttemptToAcquireLeaderAsync(default));
        Assert.Single(results, r => r);
        var (winner, loser) = results[0] ? (a, b) : (b, a);
        var leader = (await cli.GetClusterAsync(default)).Leader;
        Assert.Equal(results[0] ? "a" : "b", leader?.Name);

        Assert.True(await winner.UpdateLeaderAsync(leader, default));
        Assert.False(await loser.UpdateLeaderAsync(leader, default));
        Assert.False(await loser.AttemptToAcquireLeaderAsync(default));
        Assert.False(await loser.DeleteLeaderAsync(null, default));
        Assert.Equal(leader?.Name, (await cli.GetClusterAsync(default)).Leader?.Name);

        Assert.True(await winner.DeleteLeaderAsync(12345, default));
        var after = await cli.GetClusterAsync(default);
        Assert.Null(after.Leader);
        Assert.Equal(12345, after.Status?.Optime);
    }

    [Fact]
    public async Task Renewal_reattaches_the_leader_key_to_a_new_lease()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var node = NewDcs(client, scope, "n1", watch: false, ttl: 5);
        await using var cli = NewDcs(client, scope, "", watch: false);
        Assert.True(await node.AttemptToAcquireLeaderAsync(default));
        var before = (await cli.GetClusterAsync(default)).Leader!;

        await node.ResetSessionAsync(default);
        Assert.NotEqual(before.LeaseId, node.LeaseId);
        Assert.True(await node.UpdateLeaderAsync(before, default));
        var after = (await cli.GetClusterAsync(default)).Leader!;
        Assert.Equal("n1", after.Name);
        Assert.Equal(node.LeaseId, after.LeaseId);
    }

    [Fact]
    public async Task Config_compare_and_set_fails_on_a_stale_version()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var cli = NewDcs(client, scope, "", watch: false);
        Assert.True(await cli.SetConfigAsync("""{"ttl":30,"loop_wait":10}""", null, default));
        var v1 = (await cli.GetClusterAsync(default)).Config!;
        Assert.Equal(30, v1.Value.Ttl);
        Assert.True(await cli.SetConfigAsync("""{"ttl":20}""", v1.ModRevision, default));
        Assert.False(await cli.SetConfigAsync("""{"ttl":40}""", v1.ModRevision, default));
        var v2 = (await cli.GetClusterAsync(default)).Config!;
        Assert.Equal(20, v2.Value.Ttl);
        Assert.True(v2.ModRevision > v1.ModRevision);

        Assert.True(await cli.InitializeAsync(create: true, "", default));
        Assert.False(await cli.InitializeAsync(create: true, "", default));
        Assert.True(await cli.InitializeAsync(create: false, "7710836552808695120", default));
        Assert.Equal("7710836552808695120", (await cli.GetClusterAsync(default)).Initialize);
        await cli.CancelInitializationAsync(default);
        Assert.Null((await cli.GetClusterAsync(default)).Initialize);

        Assert.True(await cli.SetSyncAsync("""{"leader":"a","sync_standby":"b,c"}""", null, default));
        var sync = (await cli.GetClusterAsync(default)).Sync!;
        Assert.Equal(["b", "c"], sync.SyncStandbys);
        Assert.False(await cli.SetSyncAsync(null, sync.ModRevision - 1, default));
        Assert.True(await cli.SetSyncAsync(null, sync.ModRevision, default));
        Assert.Null((await cli.GetClusterAsync(default)).Sync);

        await cli.DeleteClusterAsync(default);
        Assert.Null((await cli.GetClusterAsync(default)).Config);
    }

    [Fact]
    public async Task Touch_member_skips_unchanged_writes()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var node = NewDcs(client, scope, "n1", watch: true, ttl: 5);
        await node.TouchMemberAsync(Member("n1"), default);
        await WaitUntilAsync(async () => (await node.GetClusterAsync(default)).FindMember("n1") is not null,
            TimeSpan.FromSeconds(5), "the member key in the watch cache");
        var first = (await node.GetClusterAsync(default)).FindMember("n1")!;
        Assert.Equal("running", first.Data.State);

        await node.TouchMemberAsync(Member("n1"), default);
        await node.TouchMemberAsync(Member("n1", state: "stopped"), default);
        await WaitUntilAsync(async () => (await node.GetClusterAsync(default)).FindMember("n1")?.Data.State == "stopped",
            TimeSpan.FromSeconds(5), "the changed member key in the watch cache");
        var range = await client.GetAsync(node.Keys.Member("n1"), serializable: false, default);
        // Two writes in all (version 2): the unchanged touch did not write.
        Assert.Equal(2, range.Kvs[0].Version);
    }

    [Fact]
    public async Task Watch_wakes_the_waiter_when_the_leader_key_is_deleted()
    {
        using var client = Client(Endpoints);
        var scope = NewScope();
        await using var leader = NewDcs(client, scope, "a", watch: false, ttl: 5);
        await using var replica = NewDcs(client, scope, "b", watch: true, ttl: 5);
        Assert.Null((await replica.GetClusterAsync(default)).Leader);
        Assert.True(await leader.AttemptToAcquireLeaderAsync(default));
        await WaitUntilAsync(async () => (await replica.GetClusterAsync(default)).Leader?.Name == "a",
            TimeSpan.FromSeconds(5), "the replica's cache to show leader a");
        Assert.True(await replica.WaitForChangeAsync(TimeSpan.FromSeconds(1), default)); // the acquisition itself
        Assert.False(await replica.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), default));

        var sw = Stopwatch.StartNew();
        var wait = replica.WaitForChangeAsync(TimeSpan.FromSeconds(10), default);
        Assert.True(await leader.DeleteLeaderAsync(null, default));
        Assert.True(await wait);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"woke after {sw.Elapsed}");
        Assert.Null((await replica.GetClusterAsync(default)).Leader);

        // A failover request also wakes it; a status write does not.
        await leader.WriteStatusAsync(100, null, default);
        Assert.False(await replica.WaitForChangeAsync(TimeSpan.FromMilliseconds(300), default));
        Assert.True(await leader.SetFailoverAsync("""{"leader":"a","member":"b"}""", null, default));
        Assert.True(await replica.WaitForChangeAsync(TimeSpan.FromSeconds(5), default));
        Assert.Equal("b", (await replica.GetClusterAsync(default)).Failover?.Candidate);
    }

    [Fact]
    public async Task Error_kinds_lease_not_found_and_connection_refused()
    {
        using var client = Client(Endpoints);
        var e = await Assert.ThrowsAsync<DcsException>(() => client.PutAsync("/service/x/y", "v", 12345, default));
        Assert.Equal(DcsErrorKind.LeaseNotFound, e.Kind);

        // Nothing listens on 127.0.0.22:2379 while this class runs.
        using var refused = Client(["127.0.0.22:2379"], retryTimeoutSeconds: 1.5);
        var sw = Stopwatch.StartNew();
        var r = await Assert.ThrowsAsync<DcsException>(() => refused.GetAsync("/x", false, default));
        Assert.Equal(DcsErrorKind.ConnectionRefused, r.Kind);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.Elapsed}");
    }
}
