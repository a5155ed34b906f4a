using System.Text.Json.Nodes;
using PgWarden.Config;
using PgWarden.Ctl;
using PgWarden.Dcs;
using PgWarden.Tests.Api;
using PgWarden.Tests.Golden;

namespace PgWarden.Tests.Ctl;

public class ClusterTableTests
{
    private const string Before = "patronictl-before-switchover.txt";

    private static ClusterView BeforeSwitchover => RecordedNodes.View();

    private static ClusterView PendingRestart(bool paused = false)
    {
        var dynamic = RecordedNodes.Dynamic with { Pause = paused };
        return RecordedNodes.View(leader: "node1", optime: 67302680) with
        {
            Config = new VersionedConfig(dynamic, 70, "{}"),
            Members =
            [
                RecordedNodes.MemberOf("node1", "master", 67302680, timeline: 2, pendingRestart: true),
                RecordedNodes.MemberOf("node2", "replica", 67302680, timeline: 2, pendingRestart: true),
                RecordedNodes.MemberOf("node3", "replica", 67302680, timeline: 2, pendingRestart: true),
            ],
        };
    }

    [Theory]
    [InlineData("list", "pretty", false)]
    [InlineData("list -f json", "json", false)]
    [InlineData("list -f yaml", "yaml", false)]
    [InlineData("list -e", "pretty", true)]
    [InlineData("topology", "topology", false)]
    public void Before_switchover_matches_recorded_patronictl(string command, string format, bool extended) =>
        Assert.Equal(GoldenFile.CtlOutput(Before, "patronictl " + command),
            ClusterTable.Render(BeforeSwitchover, "demo", format, extended, includeSystemId: false));

    [Fact]
    public void Pending_restart_matches_recorded_patronictl()
    {
        const string file = "patronictl-pending-restart.txt";
        Assert.Equal(GoldenFile.CtlOutput(file, "patronictl list"),
            ClusterTable.Render(PendingRestart(), "demo", "pretty", false, includeSystemId: false));
        Assert.Equal(GoldenFile.CtlOutput(file, "patronictl list -f json"),
            ClusterTable.Render(PendingRestart(), "demo", "json", false, includeSystemId: false));
    }

    [Fact]
    public void Paused_cluster_shows_the_maintenance_footer()
    {
        Assert.Equal(GoldenFile.CtlOutput("patronictl-pause.txt", "patronictl list"),
            ClusterTable.Render(PendingRestart(paused: true), "demo", "pretty", false, includeSystemId: false));
    }

    [Fact]
    public void Stopping_member_without_position_shows_unknown_lag_and_no_timeline()
    {
        var stopping = new Member("node2", new MemberData
        {
            ConnUrl = "postgres://127.0.0.12:5432/postgres",
            ApiUrl = "http://127.0.0.12:8008/patroni",
            State = "stopping",
            Role = "replica",
        }, 1, 1);
        var view = RecordedNodes.View(leader: "node1", optime: 67302224) with
        {
            Members =
            [
                RecordedNodes.MemberOf("node1", "master", 67302224),
                stopping,
                RecordedNodes.MemberOf("node3", "replica", 67302224),
            ],
        };
        var golden = GoldenFile.CtlOutput("patronictl-switchover.txt", "patronictl switchover demo --leader node2 --candidate node1 --force");
        var afterSwitchover = golden[(golden.IndexOf("Successfully switched over to \"node1\"\n", StringComparison.Ordinal) + 38)..];
        Assert.Equal(afterSwitchover, ClusterTable.Render(view, "demo", "pretty", false, includeSystemId: false));
    }

    [Fact]
    public void System_identifier_goes_into_the_title_by_default()
    {
        var expected = GoldenFile.CtlOutput(Before, "patronictl list").Split('\n');
        var actual = ClusterTable.Render(BeforeSwitchover, "demo", "pretty", false).Split('\n');
        Assert.Equal("+ Cluster: demo (7710836552808695120) ----+----+-----------+", actual[0]);
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected[1..], actual[1..]);
        Assert.StartsWith("+ Cluster: demo (uninitialized) ",
            ClusterTable.Render(BeforeSwitchover with { Initialize = null }, "demo", "pretty", false), StringComparison.Ordinal);
        Assert.StartsWith("+ Cluster: demo (initializing) ",
            ClusterTable.Render(BeforeSwitchover with { Initialize = "" }, "demo", "pretty", false), StringComparison.Ordinal);
    }

    [Fact]
    public void Tsv_has_every_column_including_cluster()
    {
        Assert.Equal(
            "Cluster\tMember\tHost\tRole\tState\tTL\tLag in MB\n"
            + "demo\tnode1\t127.0.0.11\tReplica\trunning\t1\t0\n"
            + "demo\tnode2\t127.0.0.12\tLeader\trunning\t1\t\n"
            + "demo\tnode3\t127.0.0.13\tReplica\trunning\t1\t0\n",
            ClusterTable.Render(BeforeSwitchover, "demo", "tsv", false));
    }

    private static ClusterView WithTagsAndPorts()
    {
        var node1 = RecordedNodes.MemberOf("node1", "replica", 67301872 - 3 * 1024 * 1024);
        node1 = node1 with
        {
            Data = node1.Data with
            {
                ConnUrl = "postgres://127.0.0.11:5433/postgres",
                Tags = new JsonObject { ["nofailover"] = true, ["zone"] = "on" },
                ScheduledRestart = new JsonObject { ["schedule"] = "2026-11-22T05:00:00+00:00", ["postgres_version"] = "16.0" },
            },
        };
        var node3 = RecordedNodes.MemberOf("node3", "replica", 67301872);
        node3 = node3 with { Data = node3.Data with { Tags = new JsonObject { ["replicatefrom"] = "node1" } } };
        return RecordedNodes.View() with
        {
            Members = [node1, RecordedNodes.MemberOf("node2", "master", 67301872), node3],
            Sync = new SyncState("node2", ["node1"], 0, 1),
            Failover = new FailoverRequest("node2", "node1", RecordedNodes.At(2026, 11, 22, 6, 0, 0, 0), 4),
        };
    }

    [Fact]
    public void Tags_ports_sync_standby_scheduled_restart_and_switchover_footer()
    {
        var actual = ClusterTable.Render(WithTagsAndPorts(), "demo", "pretty", false, includeSystemId: false);
        // Widths are computed, so check structure rather than a hand-counted border.
        var lines = actual.Split('\n');
        Assert.Equal("| Member | Host            | Role         | State   | TL | Lag in MB | Scheduled restart                           | Tags                 |", lines[1]);
        Assert.Equal("| node1  | 127.0.0.11:5433 | Sync Standby | running |  1 |         3 | 2026-11-22T05:00:00+00:00 if version < 16.0 | nofailover: true     |", lines[3]);
        Assert.Equal("|        |                 |              |         |    |           |                                             | zone: 'on'           |", lines[4]);
        Assert.Equal(lines[2], lines[5]);
        Assert.Equal("| node3  | 127.0.0.13:5432 | Replica      | running |  1 |         0 |                                             | replicatefrom: node1 |", lines[8]);
        Assert.Equal(" Switchover scheduled at: 2026-11-22T06:00:00+00:00", lines[10]);
        Assert.Equal("                    from: node2", lines[11]);
        Assert.Equal("                      to: node1", lines[12]);
        Assert.Equal("", lines[13]);
    }

    [Fact]
    public void Topology_nests_cascading_replicas()
    {
        var lines = ClusterTable.Render(WithTagsAndPorts(), "demo", "topology", false, includeSystemId: false).Split('\n');
        Assert.StartsWith("| node2     |", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("| + node1   |", lines[5], StringComparison.Ordinal);
        Assert.StartsWith("|   + node3 |", lines[8], StringComparison.Ordinal);
    }

    [Fact]
    public void Tsv_and_json_render_tags_as_flow_yaml_and_objects()
    {
        var tsv = ClusterTable.Render(WithTagsAndPorts(), "demo", "tsv", false).Split('\n');
        Assert.EndsWith("\t{nofailover: true, zone: 'on'}", tsv[1], StringComparison.Ordinal);
        var json = ClusterTable.Render(WithTagsAndPorts(), "demo", "json", false);
        Assert.Contains("\"Tags\": {\"nofailover\": true, \"zone\": \"on\"}", json, StringComparison.Ordinal);
        var yaml = ClusterTable.Render(WithTagsAndPorts(), "demo", "yaml", false);
        Assert.Contains("  Tags:\n    nofailover: true\n    zone: 'on'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  Scheduled restart: 2026-11-22T05:00:00+00:00 if version < 16.0\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_format_is_rejected_with_the_choices() =>
        Assert.Contains("expected pretty", Assert.Throws<ArgumentException>(() =>
            ClusterTable.Render(BeforeSwitchover, "demo", "xml", false)).Message, StringComparison.Ordinal);
}
