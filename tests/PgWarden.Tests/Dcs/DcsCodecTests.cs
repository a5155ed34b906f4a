using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Tests.Dcs;

public sealed class DcsCodecTests
{
    private static readonly DcsKeys Demo = new("/service/", "demo");

    private static string GoldenPath(string file, [CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "..", "Golden", file);

    /// <summary>The recorded keys as etcd holds them: JSON values compact, plain strings as they are.</summary>
    private static List<Etcd3KeyValue> LoadRecorded(string file)
    {
        var root = JsonNode.Parse(File.ReadAllText(GoldenPath(file)))!.AsObject();
        var kvs = new List<Etcd3KeyValue>();
        foreach (var (key, entry) in root)
        {
            var value = entry!["value"]!;
            var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString(DcsCodec.CompactJson);
            var lease = entry["lease"]!.GetValue<bool>() ? 7587880227371377460L : 0;
            kvs.Add(new Etcd3KeyValue(key, text, entry["create_revision"]!.GetValue<long>(), entry["mod_revision"]!.GetValue<long>(), 1, lease));
        }
        return kvs;
    }

    [Fact]
    public void Keys_follow_patroni_paths()
    {
        var keys = new DcsKeys("/service/", "batman");
        Assert.Equal("/service/batman", keys.Base);
        Assert.Equal("/service/batman/leader", keys.Leader);
        Assert.Equal("/service/batman/members/node1", keys.Member("node1"));
        Assert.Equal("/service/batman/optime/leader", keys.LegacyOptime);
        Assert.Equal("/service/batman/failsafe", keys.Failsafe);
        Assert.Equal("/service/batman", new DcsKeys("service", "batman").Base);
        Assert.Equal("/service/batman", new DcsKeys("//service//", "/batman").Base);
        Assert.Equal("/batman", new DcsKeys("/", "batman").Base);
        Assert.Equal("node1", DcsKeys.MemberName("members/node1"));
        Assert.Null(DcsKeys.MemberName("members/node1/extra"));
        Assert.Null(DcsKeys.MemberName("members/"));
    }

    [Fact]
    public void Parses_the_cluster_patroni_wrote_after_a_switchover()
    {
        var view = DcsCodec.ParseCluster(Demo, LoadRecorded("dcs-etcd3-after-switchover.json"), 65);
        Assert.Equal("7710836552808695120", view.Initialize);
        Assert.Equal(new LeaderKey("node1", 51, 7587880227371377460L), view.Leader);
        Assert.Equal(["node1", "node2", "node3"], view.Members.Select(m => m.Name));
        var node1 = view.LeaderMember!;
        Assert.Equal("postgres://127.0.0.11:5432/postgres", node1.Data.ConnUrl);
        Assert.Equal("http://127.0.0.11:8008/patroni", node1.Data.ApiUrl);
        Assert.Equal(("running", "master", "3.0.2", 67302680L, 2), (node1.Data.State, node1.Data.Role, node1.Data.Version, node1.Data.XlogLocation, node1.Data.Timeline));
        Assert.True(node1.Data.IsPrimaryRole);
        Assert.Equal(59, node1.ModRevision);
        Assert.Equal(67302680, view.LeaderOptime);
        Assert.True(view.Failover!.IsEmpty);
        Assert.Equal(52, view.Failover.ModRevision);
        var h = Assert.Single(view.History!);
        Assert.Equal(new HistoryEntry(1, 67302224, "no recovery target specified", "2026-11-22T03:44:28.544242+00:00", "node1"), h);
        Assert.Equal(2, view.ClusterTimeline);
        var config = view.Config!;
        Assert.Equal(12, config.ModRevision);
        Assert.Equal((10, 2, 3, 1048576L), (config.Value.Ttl, config.Value.LoopWait, config.Value.RetryTimeout, config.Value.MaximumLagOnFailover));
        Assert.True(config.Value.UsePgRewind);
        Assert.True(config.Value.UseSlots);
        Assert.Equal("128MB", config.Value.Parameters["shared_buffers"]);
        Assert.Equal("100", config.Value.Parameters["max_connections"]);
        Assert.Equal(65, view.Revision);
    }

    [Theory]
    [InlineData("dcs-etcd3-after-bootstrap.json")]
    [InlineData("dcs-etcd3-after-switchover.json")]
    [InlineData("dcs-etcd3-pending-restart.json")]
    public void Member_json_round_trips_byte_for_byte(string file)
    {
        var members = LoadRecorded(file).Where(kv => kv.Key.Contains("/members/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, members.Count);
        foreach (var kv in members)
            Assert.Equal(kv.Value, DcsCodec.SerializeMember(DcsCodec.ParseMemberData(kv.Value)));
    }

    [Fact]
    public void Pending_restart_is_read()
    {
        var view = DcsCodec.ParseCluster(Demo, LoadRecorded("dcs-etcd3-pending-restart.json"), 78);
        Assert.All(view.Members, m => Assert.True(m.Data.PendingRestart));
        Assert.Equal("256MB", view.Config!.Value.Parameters["shared_buffers"]);
    }

    [Fact]
    public void Member_serialization_uses_patroni_names_and_omits_defaults()
    {
        var json = DcsCodec.SerializeMember(new MemberData
        {
            ConnUrl = "postgres://10.0.0.1:5432/postgres",
            ApiUrl = "http://10.0.0.1:8008/patroni",
            State = "running",
            Role = "replica",
            Version = "3.0.2",
            CheckpointAfterPromote = false,
            Tags = new JsonObject { ["nofailover"] = true, ["zone"] = "a+b" },
            PendingRestartReason = new JsonObject { ["work_mem"] = new JsonObject { ["old_value"] = "4MB", ["new_value"] = "8MB" } },
            XlogLocation = 100,
            ReceiveLsn = 90,
            ReplayLsn = 80,
            ReplicationState = "streaming",
            Timeline = 3,
            ScheduledRestart = new JsonObject { ["schedule"] = "2026-01-01T00:00:00+00:00" },
            PgWardenVersion = "0.1.0",
        });
        Assert.Equal(
            """{"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://10.0.0.1:8008/patroni","state":"running","role":"replica","version":"3.0.2","checkpoint_after_promote":false,"tags":{"nofailover":true,"zone":"a+b"},"pending_restart_reason":{"work_mem":{"old_value":"4MB","new_value":"8MB"}},"xlog_location":100,"receive_lsn":90,"replay_lsn":80,"replication_state":"streaming","timeline":3,"scheduled_restart":{"schedule":"2026-01-01T00:00:00+00:00"},"pgwarden_version":"0.1.0"}""",
            json);
        Assert.Equal("""{"state":"stopped","pending_restart":true,"pause":true}""",
            DcsCodec.SerializeMember(new MemberData { State = "stopped", PendingRestart = true, Pause = true }));
    }

    [Fact]
    public void Lenient_member_reading()
    {
        Assert.Equal(new MemberData().ConnUrl, DcsCodec.ParseMemberData("{not json").ConnUrl);
        Assert.Null(DcsCodec.ParseMemberData("[1,2]").State);
        var unknown = DcsCodec.ParseMemberData("""{"state":"running","proxy_url":"x","future":{"a":1},"xlog_location":"123"}""");
        Assert.Equal(("running", 123L), (unknown.State, unknown.XlogLocation));
        var legacy = DcsCodec.ParseMemberData("postgres://rep:pw@10.0.0.1:5433/postgres?application_name=http://10.0.0.1:8008/patroni");
        Assert.Equal("postgres://rep:pw@10.0.0.1:5433/postgres", legacy.ConnUrl);
        Assert.Equal("http://10.0.0.1:8008/patroni", legacy.ApiUrl);
        Assert.Equal(5433, legacy.Port);
    }

    [Fact]
    public void Only_exact_member_paths_are_members()
    {
        var kvs = new[]
        {
            new Etcd3KeyValue("/service/demo/members/a", """{"state":"running"}""", 1, 1, 1, 5),
            new Etcd3KeyValue("/service/demo/members/a/b", "{}", 1, 2, 1, 0),
            new Etcd3KeyValue("/service/demo2/members/c", "{}", 1, 3, 1, 0),
            new Etcd3KeyValue("/service/demo/leader", "a", 1, 4, 1, 5),
        };
        var view = DcsCodec.ParseCluster(Demo, kvs, 4);
        Assert.Equal("a", Assert.Single(view.Members).Name);
        Assert.Equal(5, view.Leader!.LeaseId);
        Assert.Null(view.Config);
        Assert.Null(view.History);
        Assert.Equal(0, view.ClusterTimeline);
    }

    [Fact]
    public void Unparsable_config_is_null_not_an_exception()
    {
        Assert.Null(DcsCodec.ParseConfig("{bad", 3));
        Assert.Null(DcsCodec.ParseConfig("[]", 3));
        // A value that cannot be read makes the whole key unusable: agents keep their last good configuration.
        Assert.Null(DcsCodec.ParseConfig("""{"ttl":"20","loop_wait":"x"}""", 3));
        var odd = DcsCodec.ParseConfig("""{"ttl":"20","pause":"on","postgresql":{"use_slots":false,"parameters":{"hot_standby":true}}}""", 7)!;
        // ttl 20 with the default retry_timeout 10 leaves room for loop_wait 1 only (Patroni's adjustment rule).
        Assert.Equal((20, 1, true, false), (odd.Value.Ttl, odd.Value.LoopWait, odd.Value.Pause, odd.Value.UseSlots));
        Assert.Equal("on", odd.Value.Parameters["hot_standby"]);
        Assert.Equal(7, odd.ModRevision);
    }

    [Fact]
    public void Status_accepts_legacy_forms_and_falls_back_to_optime_leader()
    {
        Assert.Equal(42, DcsCodec.ParseStatus("42").Optime);
        var s = DcsCodec.ParseStatus("""{"optime":100,"slots":"{\"node2\":90}"}""");
        Assert.Equal((100L, 90L), (s.Optime!.Value, s.Slots["node2"]));
        Assert.Null(DcsCodec.ParseStatus("garbage").Optime);
        var view = DcsCodec.ParseCluster(Demo, [new Etcd3KeyValue("/service/demo/optime/leader", "555", 1, 1, 1, 0)], 1);
        Assert.Equal(555, view.LeaderOptime);
        Assert.Equal("""{"optime":5,"slots":{"a":1,"b":2}}""", DcsCodec.SerializeStatus(5, new Dictionary<string, long> { ["b"] = 2, ["a"] = 1 }));
        Assert.Equal("""{"optime":5}""", DcsCodec.SerializeStatus(5, null));
    }

    [Fact]
    public void Failover_sync_history_and_failsafe_values()
    {
        var f = DcsCodec.ParseFailover("""{"leader":"a","member":"b","scheduled_at":"2026-01-02T03:04:05+01:00"}""", 9);
        Assert.Equal(("a", "b", 9L), (f.Leader, f.Candidate, f.ModRevision));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 2, 4, 5, TimeSpan.Zero), f.ScheduledAt);
        var legacy = DcsCodec.ParseFailover("a:b", 1);
        Assert.Equal(("a", "b"), (legacy.Leader, legacy.Candidate));
        Assert.Equal((null, "b"), (DcsCodec.ParseFailover(":b", 1).Leader, DcsCodec.ParseFailover(":b", 1).Candidate));
        Assert.True(DcsCodec.ParseFailover("{}", 1).IsEmpty);
        Assert.True(DcsCodec.ParseFailover("junk", 1).IsEmpty);

        var sync = DcsCodec.ParseSync("""{"leader":"a","sync_standby":"b,c","quorum":1}""", 4);
        Assert.Equal(("a", 1, 4L), (sync.Leader, sync.Quorum, sync.ModRevision));
        Assert.Equal(["b", "c"], sync.SyncStandbys);
        Assert.Empty(DcsCodec.ParseSync("""{"leader":"a","sync_standby":null}""", 4).SyncStandbys);

        var history = DcsCodec.ParseHistory("""[[1,100,"no recovery target specified"],[2,200,"r","2026-01-01T00:00:00+00:00"],[3,300,"r","t","n"],[4],"x",[5,1,2,3,4,5]]""");
        Assert.Equal([1, 2, 3], history.Select(h => h.Timeline));
        Assert.Null(history[0].Timestamp);
        Assert.Equal("n", history[2].NewLeader);
        Assert.Empty(DcsCodec.ParseHistory("not json"));

        Assert.Equal("http://a/patroni", DcsCodec.ParseFailsafe("""{"a":"http://a/patroni"}""")["a"]);
        Assert.Equal("""{"a":"http://a/patroni"}""", DcsCodec.SerializeFailsafe(new Dictionary<string, string> { ["a"] = "http://a/patroni" }));
    }
}
