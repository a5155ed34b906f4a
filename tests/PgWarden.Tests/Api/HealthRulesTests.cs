using System.Text.Json.Nodes;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;

namespace PgWarden.Tests.Api;

public class HealthRulesTests
{
    private static readonly DateTimeOffset Now = RecordedNodes.Now;

    private static IReadOnlyDictionary<string, string> Q(string query) =>
        query.Length == 0 ? new Dictionary<string, string>()
            : query.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static NodeStatus Node(string kind) => kind switch
    {
        "leader" => RecordedNodes.Leader(),
        "replica" => RecordedNodes.Replica(),
        // The lock is ours in the view, but the last renewal is older than ttl (10 s).
        "stale-leader" => RecordedNodes.Leader() with { LastLeaderRenewal = Now.AddSeconds(-11) },
        "stopped-replica" => RecordedNodes.Replica() with { PgState = "stopped", Probe = null },
        "lagging-replica" => RecordedNodes.Replica() with
        {
            View = RecordedNodes.View(optime: 67301872 + 2 * 1024 * 1024),
        },
        "noloadbalance-replica" => RecordedNodes.Replica() with { Tags = Tags(("noloadbalance", true)) },
        "tagged-replica" => RecordedNodes.Replica() with { Tags = Tags(("zone", "eu"), ("nofailover", true), ("weight", 1.5)) },
        "sync-replica" => SyncReplica("on"),
        "quorum-replica" => SyncReplica("quorum"),
        "sync-mode-async-replica" => SyncReplica("on") with { Name = "node3" },
        "no-dcs-replica" => RecordedNodes.Replica() with { View = null },
        "no-dcs-paused-master" => RecordedNodes.Leader() with { View = null, Dynamic = RecordedNodes.Dynamic with { Pause = true } },
        "no-dcs-master" => RecordedNodes.Leader() with { View = null },
        "standby-leader" => StandbyCluster(RecordedNodes.Leader() with
        {
            Role = "standby_leader",
            Probe = RecordedNodes.Replica().Probe,
        }),
        "standby-replica" => StandbyCluster(RecordedNodes.Replica()),
        _ => throw new ArgumentException(kind),
    };

    private static MemberTags Tags(params (string Key, JsonNode? Value)[] tags) =>
        new(tags.ToDictionary(t => t.Key, t => t.Value));

    private static NodeStatus SyncReplica(string mode)
    {
        var dynamic = RecordedNodes.Dynamic with { SynchronousMode = mode };
        var view = RecordedNodes.View() with
        {
            Config = new VersionedConfig(dynamic, 1, "{}"),
            Sync = new SyncState("node2", ["NODE1"], 1, 3),
        };
        return RecordedNodes.Replica() with { View = view, Dynamic = dynamic };
    }

    private static NodeStatus StandbyCluster(NodeStatus node)
    {
        var raw = new JsonObject { ["standby_cluster"] = new JsonObject { ["host"] = "10.0.0.1" } };
        var dynamic = RecordedNodes.Dynamic with { Raw = raw };
        return node with { Dynamic = dynamic, View = node.View! with { Config = new VersionedConfig(dynamic, 1, "{}") } };
    }

    [Theory]
    // The recorded leader / replica answers (rest-get.txt).
    [InlineData("leader", "/", "", 200)]
    [InlineData("leader", "/primary", "", 200)]
    [InlineData("leader", "/master", "", 200)]
    [InlineData("leader", "/read-write", "", 200)]
    [InlineData("leader", "/leader", "", 200)]
    [InlineData("leader", "/replica", "", 503)]
    [InlineData("leader", "/replica", "lag=1MB", 503)]
    [InlineData("leader", "/read-only", "", 200)]
    [InlineData("leader", "/standby-leader", "", 503)]
    [InlineData("leader", "/standby_leader", "", 503)]
    [InlineData("leader", "/health", "", 200)]
    [InlineData("leader", "/asynchronous", "", 503)]
    [InlineData("leader", "/synchronous", "", 503)]
    [InlineData("leader", "/read-only-sync", "", 200)]
    [InlineData("leader", "/patroni", "", 503)]
    [InlineData("leader", "/nonsense", "", 503)]
    [InlineData("replica", "/", "", 503)]
    [InlineData("replica", "/primary", "", 503)]
    [InlineData("replica", "/read-write", "", 503)]
    [InlineData("replica", "/leader", "", 503)]
    [InlineData("replica", "/replica", "", 200)]
    [InlineData("replica", "/replica", "lag=1MB", 200)]
    [InlineData("replica", "/replica", "lag=0", 200)]
    [InlineData("replica", "/read-only", "", 200)]
    [InlineData("replica", "/standby-leader", "", 503)]
    [InlineData("replica", "/health", "", 200)]
    [InlineData("replica", "/async", "", 200)]
    [InlineData("replica", "/asynchronous", "", 200)]
    [InlineData("replica", "/sync", "", 503)]
    [InlineData("replica", "/synchronous", "", 503)]
    [InlineData("replica", "/read-only-sync", "", 503)]
    // Path matching is by substring, first match wins.
    [InlineData("replica", "/replica/whatever", "", 200)]
    [InlineData("leader", "/xprimaryx", "", 200)]
    // A lock whose last renewal is older than ttl no longer counts.
    [InlineData("stale-leader", "/primary", "", 503)]
    [InlineData("stale-leader", "/leader", "", 503)]
    [InlineData("stale-leader", "/health", "", 200)]
    // Lag: B/kB/MB/GB/TB, unparsable = unlimited.
    [InlineData("lagging-replica", "/replica", "", 200)]
    [InlineData("lagging-replica", "/replica", "lag=1MB", 503)]
    [InlineData("lagging-replica", "/replica", "lag=3MB", 200)]
    [InlineData("lagging-replica", "/replica", "lag=2048kB", 200)]
    [InlineData("lagging-replica", "/replica", "lag=2097151", 503)]
    [InlineData("lagging-replica", "/replica", "lag=2097152B", 200)]
    [InlineData("lagging-replica", "/replica", "lag=1GB", 200)]
    [InlineData("lagging-replica", "/replica", "lag=1TB", 200)]
    [InlineData("lagging-replica", "/replica", "lag=1mb", 200)]
    [InlineData("lagging-replica", "/replica", "lag=lots", 200)]
    [InlineData("lagging-replica", "/read-only", "lag=1MB", 503)]
    [InlineData("lagging-replica", "/async", "lag=1MB", 503)]
    [InlineData("lagging-replica", "/health", "lag=1MB", 200)]
    // noloadbalance takes a replica out of replica pools, not out of /health.
    [InlineData("noloadbalance-replica", "/replica", "", 503)]
    [InlineData("noloadbalance-replica", "/read-only", "", 503)]
    [InlineData("noloadbalance-replica", "/health", "", 200)]
    // tag_<key>=<value>: non-strings as lower-cased text; missing tag or mismatch -> 503; ignored on leader paths.
    [InlineData("tagged-replica", "/replica", "tag_zone=eu", 200)]
    [InlineData("tagged-replica", "/replica", "tag_zone=us", 503)]
    [InlineData("tagged-replica", "/replica", "tag_rack=1", 503)]
    [InlineData("tagged-replica", "/replica", "tag_nofailover=true", 200)]
    [InlineData("tagged-replica", "/replica", "tag_nofailover=True", 503)]
    [InlineData("tagged-replica", "/replica", "tag_weight=1.5", 200)]
    [InlineData("tagged-replica", "/replica", "tag_zone=eu&tag_nofailover=true", 200)]
    [InlineData("tagged-replica", "/health", "tag_zone=us", 503)]
    [InlineData("leader", "/primary", "tag_zone=us", 200)]
    [InlineData("leader", "/read-only", "tag_zone=us", 503)]
    // Synchronous mode: the sync key lists the node (case-insensitively).
    [InlineData("sync-replica", "/sync", "", 200)]
    [InlineData("sync-replica", "/synchronous", "", 200)]
    [InlineData("sync-replica", "/async", "", 503)]
    [InlineData("sync-replica", "/read-only-sync", "", 200)]
    [InlineData("sync-replica", "/read-only-synchronous", "", 200)]
    [InlineData("sync-replica", "/quorum", "", 503)]
    [InlineData("sync-mode-async-replica", "/sync", "", 503)]
    [InlineData("sync-mode-async-replica", "/async", "", 200)]
    [InlineData("sync-mode-async-replica", "/read-only-sync", "", 503)]
    [InlineData("quorum-replica", "/quorum", "", 200)]
    [InlineData("quorum-replica", "/read-only-quorum", "", 200)]
    [InlineData("quorum-replica", "/sync", "", 503)]
    [InlineData("quorum-replica", "/async", "", 503)]
    // Without a DCS view the sync family answers 503; the rest still works.
    [InlineData("no-dcs-replica", "/async", "", 503)]
    [InlineData("no-dcs-replica", "/replica", "", 200)]
    [InlineData("no-dcs-master", "/primary", "", 503)]
    [InlineData("no-dcs-paused-master", "/primary", "", 200)]
    [InlineData("no-dcs-paused-master", "/leader", "", 200)]
    [InlineData("no-dcs-paused-master", "/standby-leader", "", 503)]
    // A stopped replica is in no pool.
    [InlineData("stopped-replica", "/replica", "", 503)]
    [InlineData("stopped-replica", "/read-only", "", 503)]
    [InlineData("stopped-replica", "/health", "", 503)]
    // Standby cluster: the lock holder is the standby leader; nobody is primary.
    [InlineData("standby-leader", "/standby-leader", "", 200)]
    [InlineData("standby-leader", "/leader", "", 200)]
    [InlineData("standby-leader", "/primary", "", 503)]
    [InlineData("standby-leader", "/replica", "", 503)]
    [InlineData("standby-leader", "/read-only", "", 200)]
    [InlineData("standby-replica", "/replica", "", 200)]
    [InlineData("standby-replica", "/standby-leader", "", 503)]
    public void Status_code(string node, string path, string query, int expected) =>
        Assert.Equal(expected, HealthRules.StatusCode(path, Q(query), Node(node), postmasterHealthy: true, Now));

    [Theory]
    [InlineData("leader", "/primary", 503)]
    [InlineData("leader", "/", 503)]
    [InlineData("leader", "/read-write", 503)]
    [InlineData("leader", "/read-only", 503)]
    [InlineData("leader", "/health", 503)]
    [InlineData("leader", "/leader", 200)]
    [InlineData("replica", "/replica", 503)]
    [InlineData("replica", "/read-only", 503)]
    [InlineData("replica", "/health", 503)]
    [InlineData("replica", "/async", 503)]
    [InlineData("standby-leader", "/standby-leader", 503)]
    public void Dead_postmaster_routes_no_traffic(string node, string path, int expected) =>
        Assert.Equal(expected, HealthRules.StatusCode(path, Q(""), Node(node), postmasterHealthy: false, Now));

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("16", 16L)]
    [InlineData("16B", 16L)]
    [InlineData("16kB", 16L * 1024)]
    [InlineData("64MB", 64L * 1024 * 1024)]
    [InlineData("2GB", 2L * 1024 * 1024 * 1024)]
    [InlineData("1TB", 1024L * 1024 * 1024 * 1024)]
    [InlineData(" 1 MB ", 1024L * 1024)]
    [InlineData("0x10", 16L)]
    [InlineData("010", 8L)]
    [InlineData("-5", -5L)]
    [InlineData("16kb", null)]
    [InlineData("16 KB", null)]
    [InlineData("MB", null)]
    [InlineData("", null)]
    public void Lag_parsing(string text, long? expected) => Assert.Equal(expected, HealthRules.ParseLag(text));

    [Fact]
    public void Liveness_fails_after_ttl_on_the_primary_and_2ttl_elsewhere()
    {
        var leader = RecordedNodes.Leader() with { NextCycleDue = Now.AddSeconds(-9) };
        Assert.Equal(200, HealthRules.Liveness(leader, true, Now));
        Assert.Equal(503, HealthRules.Liveness(leader with { NextCycleDue = Now.AddSeconds(-10) }, true, Now));
        var replica = RecordedNodes.Replica() with { NextCycleDue = Now.AddSeconds(-19) };
        Assert.Equal(200, HealthRules.Liveness(replica, true, Now));
        Assert.Equal(503, HealthRules.Liveness(replica with { NextCycleDue = Now.AddSeconds(-20) }, true, Now));
        // A primary whose postmaster is gone gets the replica threshold.
        Assert.Equal(200, HealthRules.Liveness(leader with { NextCycleDue = Now.AddSeconds(-15) }, false, Now));
        // Paused: always alive.
        var paused = leader with { NextCycleDue = Now.AddHours(-1), Dynamic = RecordedNodes.Dynamic with { Pause = true }, View = null };
        Assert.Equal(200, HealthRules.Liveness(paused, true, Now));
        // Before the loop published a schedule.
        Assert.Equal(200, HealthRules.Liveness(replica with { NextCycleDue = null }, true, Now));
    }

    [Fact]
    public void Readiness_follows_the_3_0_rules()
    {
        Assert.Equal(200, HealthRules.Readiness(RecordedNodes.Leader(), true, Now));
        // The lock holder is ready even while its postmaster restarts.
        Assert.Equal(200, HealthRules.Readiness(RecordedNodes.Leader(), false, Now));
        Assert.Equal(200, HealthRules.Readiness(RecordedNodes.Replica(), true, Now));
        Assert.Equal(503, HealthRules.Readiness(RecordedNodes.Replica(), false, Now));
        Assert.Equal(503, HealthRules.Readiness(RecordedNodes.Replica() with { View = null }, true, Now));
        Assert.Equal(503, HealthRules.Readiness(RecordedNodes.Replica() with { PgState = "starting" }, true, Now));
    }
}
