using System.Text.Json.Nodes;
using PgWarden.Dcs;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Tests.Ha;

public sealed class SynchronousReplicationTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("node2", "node2")]
    [InlineData("node3,node2", "2 (node2,node3)")]
    [InlineData("Node-2", "\"Node-2\"")]
    [InlineData("*", "*")]
    public void Formats_like_patroni(string names, string expected) =>
        Assert.Equal(expected, SynchronousReplication.Format(names.Split(',', StringSplitOptions.RemoveEmptyEntries)));

    [Theory]
    [InlineData("2 (node2,node3)", "node2,node3")]
    [InlineData("node2", "node2")]
    [InlineData("\"Node-2\"", "Node-2")]
    [InlineData("", "")]
    public void Parses_what_it_writes(string value, string expected) =>
        Assert.Equal(expected, string.Join(",", SynchronousReplication.Parse(value)));

    [Fact]
    public void Sync_key_json_matches_patroni()
    {
        Assert.Equal("""{"leader":"node1","sync_standby":null}""", SynchronousReplication.SyncKeyJson("node1", []));
        Assert.Equal("""{"leader":"node1","sync_standby":"node2,node3"}""", SynchronousReplication.SyncKeyJson("node1", ["node3", "node2"]));
    }

    private static Member M(string name, bool nosync = false) => new(name, new MemberData
    {
        State = "running", Tags = nosync ? new JsonObject { ["nosync"] = true } : null,
    }, 1, 1);

    [Fact]
    public void Picks_streaming_members_sync_first_and_skips_nosync()
    {
        var view = new ClusterView { Members = [M("node1"), M("node2"), M("node3"), M("node4", nosync: true)] };
        ReplicationRow Row(string app, string state, string sync) => new("replicator", app, "127.0.0.1", state, sync, 0);
        var rows = new[] { Row("node2", "streaming", "async"), Row("node3", "streaming", "sync"), Row("node4", "streaming", "async"), Row("ghost", "streaming", "async") };

        var (picked, allow) = SynchronousReplication.Pick(view, "node1", rows, 1);
        Assert.Equal(["node3"], picked);
        Assert.Equal(["node3"], allow);

        (picked, allow) = SynchronousReplication.Pick(view, "node1", rows, 5);
        Assert.Equal(["node3", "node2"], picked);
        Assert.Equal(["node3"], allow);

        (picked, _) = SynchronousReplication.Pick(view, "node1", [Row("node2", "catchup", "async")], 1);
        Assert.Empty(picked);
    }
}
