using PgWarden.Api;
using PgWarden.Dcs;
using PgWarden.Tests.Golden;

namespace PgWarden.Tests.Api;

public class ClusterDocumentTests
{
    [Fact]
    public void Matches_recorded_cluster()
    {
        var expected = GoldenFile.RestBody("rest-get.txt", "GET /cluster on leader");
        Assert.Equal(expected, PythonJson.Serialize(ClusterDocument.Build(RecordedNodes.View(), "demo")));
    }

    [Fact]
    public void Lag_is_unknown_without_xlog_and_never_negative()
    {
        var view = RecordedNodes.View(optime: 100) with
        {
            Members =
            [
                RecordedNodes.MemberOf("node1", "replica", 50),
                RecordedNodes.MemberOf("node2", "master", 100),
                RecordedNodes.MemberOf("node3", "replica", 300),
                new Member("node4", new MemberData { State = "stopped", Role = "replica" }, 1, 1),
            ],
        };
        var members = ClusterDocument.Build(view, "demo")["members"]!.AsArray();
        Assert.Equal(50, (long)members[0]!["lag"]!);
        Assert.False(members[1]!.AsObject().ContainsKey("lag"));
        Assert.Equal(0, (long)members[2]!["lag"]!);
        Assert.Equal("unknown", (string?)members[3]!["lag"]);
        Assert.False(members[3]!.AsObject().ContainsKey("host"));
    }

    [Fact]
    public void Sync_standby_pause_and_scheduled_switchover()
    {
        var paused = RecordedNodes.Dynamic with { Pause = true };
        var view = RecordedNodes.View() with
        {
            Config = new VersionedConfig(paused, 1, "{}"),
            Sync = new SyncState("node2", ["node3"], 0, 5),
            Failover = new FailoverRequest("node2", "node1", RecordedNodes.At(2026, 11, 22, 5, 0, 0, 0), 9),
        };
        var json = PythonJson.Serialize(ClusterDocument.Build(view, "demo"));
        Assert.Contains("{\"name\": \"node3\", \"role\": \"sync_standby\"", json, StringComparison.Ordinal);
        Assert.EndsWith(
            "\"pause\": true, \"scheduled_switchover\": {\"at\": \"2026-11-22T05:00:00+00:00\", \"from\": \"node2\", \"to\": \"node1\"}}",
            json, StringComparison.Ordinal);
    }

    [Fact]
    public void Replication_state_written_by_newer_members_is_shown_for_replicas()
    {
        var m = RecordedNodes.MemberOf("node1", "replica", 1);
        var view = RecordedNodes.View() with { Members = [m with { Data = m.Data with { ReplicationState = "streaming" } }] };
        Assert.Equal("streaming", (string?)ClusterDocument.Build(view, "demo")["members"]![0]!["state"]);
    }
}
