using System.Text.Json.Nodes;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Tests.Golden;

namespace PgWarden.Tests.Api;

public class StatusDocumentTests
{
    [Fact]
    public void Leader_matches_recorded_patroni()
    {
        var expected = GoldenFile.RestBody("rest-get.txt", "GET /patroni on leader");
        Assert.Equal(expected, StatusDocument.Serialize(RecordedNodes.Leader(), postmasterHealthy: true));
    }

    [Fact]
    public void Replica_matches_recorded_patroni()
    {
        var expected = GoldenFile.RestBody("rest-get.txt", "GET /patroni on replica");
        Assert.Equal(expected, StatusDocument.Serialize(RecordedNodes.Replica(), postmasterHealthy: true));
    }

    [Fact]
    public void Pending_restart_matches_recorded_patroni()
    {
        var node = RecordedNodes.Leader(xlog: 67302736, dcsLastSeen: 1795319088) with { Name = "node1", PendingRestart = true };
        node = node with
        {
            Probe = node.Probe! with
            {
                PostmasterStartTime = RecordedNodes.At(2026, 11, 22, 3, 44, 0, 697459),
                Timeline = 2,
                Replication =
                [
                    new PgWarden.Postgres.ReplicationRow("replicator", "node3", "127.0.0.1", "streaming", "async", 0),
                    new PgWarden.Postgres.ReplicationRow("replicator", "node2", "127.0.0.1", "streaming", "async", 0),
                ],
            },
        };
        var expected = GoldenFile.RestBody("rest-patroni-pending-restart.txt", "GET /patroni on leader with pending restart");
        Assert.Equal(expected, StatusDocument.Serialize(node, postmasterHealthy: true));
    }

    [Fact]
    public void Paused_cluster_puts_pause_last_as_recorded()
    {
        var leader = RecordedNodes.Leader(xlog: 67302736, dcsLastSeen: 1795319089) with { Name = "node1", PendingRestart = true };
        var paused = RecordedNodes.Dynamic with { Pause = true };
        leader = leader with
        {
            View = leader.View! with { Leader = new LeaderKey("node1", 1, 1), Config = new VersionedConfig(paused, 13, "{}") },
            Probe = leader.Probe! with
            {
                PostmasterStartTime = RecordedNodes.At(2026, 11, 22, 3, 44, 0, 697459),
                Timeline = 2,
                Replication =
                [
                    new PgWarden.Postgres.ReplicationRow("replicator", "node3", "127.0.0.1", "streaming", "async", 0),
                    new PgWarden.Postgres.ReplicationRow("replicator", "node2", "127.0.0.1", "streaming", "async", 0),
                ],
            },
        };
        var pauseFile = GoldenFile.Read("patronictl-pause.txt").Split('\n');
        var expected = pauseFile[Array.IndexOf(pauseFile, "### GET /patroni paused") + 1];
        Assert.Equal(expected, StatusDocument.Serialize(leader, postmasterHealthy: true));
    }

    [Fact]
    public void Dead_postmaster_reports_unknown_state_and_the_loop_role_only()
    {
        var doc = StatusDocument.Build(RecordedNodes.Leader(), postmasterHealthy: false);
        Assert.Equal("unknown", (string?)doc["state"]);
        Assert.Equal("master", (string?)doc["role"]);
        Assert.False(doc.ContainsKey("xlog"));
        Assert.False(doc.ContainsKey("postmaster_start_time"));
    }

    [Fact]
    public void Stopped_node_reports_its_state_tags_and_unlocked_cluster()
    {
        var tags = new MemberTags(new Dictionary<string, JsonNode?> { ["nofailover"] = true, ["zone"] = "a" });
        var node = RecordedNodes.Replica() with { PgState = "stopped", Probe = null, View = null, Tags = tags };
        Assert.Equal(
            "{\"state\": \"stopped\", \"role\": \"replica\", \"cluster_unlocked\": true, \"dcs_last_seen\": 1795319052, "
            + "\"tags\": {\"nofailover\": true, \"zone\": \"a\"}, \"database_system_identifier\": \"7710836552808695120\", "
            + "\"patroni\": {\"version\": \"3.0.2\", \"scope\": \"demo\"}}",
            StatusDocument.Serialize(node, postmasterHealthy: false));
    }

    [Fact]
    public void Name_is_added_on_request()
    {
        var doc = StatusDocument.Build(RecordedNodes.Leader(), true, includeName: true);
        Assert.Equal("node2", (string?)doc["patroni"]!["name"]);
    }
}
