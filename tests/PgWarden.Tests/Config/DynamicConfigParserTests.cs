using System.Text.Json.Nodes;
using PgWarden.Config;

namespace PgWarden.Tests.Config;

public class DynamicConfigParserTests
{
    private static DynamicConfig Parse(string json, List<string>? warnings = null) =>
        DynamicConfigParser.Parse((JsonObject)JsonNode.Parse(json)!, warnings ?? []);

    [Fact]
    public void Empty_GivesPatroniDefaults()
    {
        var warnings = new List<string>();
        var c = Parse("{}", warnings);
        Assert.Equal((30, 10, 10, 1048576L, 300, 0), (c.Ttl, c.LoopWait, c.RetryTimeout, c.MaximumLagOnFailover, c.PrimaryStartTimeout, c.PrimaryStopTimeout));
        Assert.Equal("off", c.SynchronousMode);
        Assert.True(c.UseSlots);
        Assert.False(c.UsePgRewind);
        Assert.Empty(warnings);
    }

    public static TheoryData<string, int, int, int, string[]> TimeoutRule => new()
    {
        // ttl, loop_wait, retry_timeout as given -> as used, and the warnings (Patroni 3.2+ wording)
        { """{"ttl":30,"loop_wait":10,"retry_timeout":10}""", 30, 10, 10, [] },
        { """{"ttl":10,"loop_wait":2,"retry_timeout":3}""", 10, 2, 3, [] },
        { """{"ttl":2,"loop_wait":1,"retry_timeout":1}""", 4, 1, 1, ["ttl=2 can't be smaller than 4, adjusting..."] },
        { """{"ttl":30,"loop_wait":0,"retry_timeout":0}""", 30, 1, 1,
            ["loop_wait=0 can't be smaller than 1, adjusting...", "retry_timeout=0 can't be smaller than 1, adjusting..."] },
        { """{"ttl":20,"loop_wait":10,"retry_timeout":10}""", 20, 1, 9,
            ["Violated the rule \"loop_wait + 2*retry_timeout <= ttl\", where ttl=20. Adjusting loop_wait from 10 to 1 and retry_timeout from 10 to 9"] },
        { """{"ttl":30,"loop_wait":15,"retry_timeout":10}""", 30, 10, 10,
            ["Violated the rule \"loop_wait + 2*retry_timeout <= ttl\", where ttl=30 and retry_timeout=10. Adjusting loop_wait from 15 to 10"] },
        { """{"ttl":"25","loop_wait":"5","retry_timeout":"10"}""", 25, 5, 10, [] },
        { """{"ttl":21,"loop_wait":5,"retry_timeout":10}""", 21, 1, 10,
            ["Violated the rule \"loop_wait + 2*retry_timeout <= ttl\", where ttl=21 and retry_timeout=10. Adjusting loop_wait from 5 to 1"] },
    };

    [Theory]
    [MemberData(nameof(TimeoutRule))]
    public void Timeouts_AreRaisedAndAdjusted(string json, int ttl, int loopWait, int retryTimeout, string[] expectedWarnings)
    {
        var warnings = new List<string>();
        var c = Parse(json, warnings);
        Assert.Equal((ttl, loopWait, retryTimeout), (c.Ttl, c.LoopWait, c.RetryTimeout));
        Assert.Equal(expectedWarnings, warnings);
    }

    [Theory]
    [InlineData("""{"ttl":"abc"}""", "ttl", "ttl: 'abc' is not an integer number of seconds")]
    [InlineData("""{"loop_wait":true}""", "loop_wait", "loop_wait: 'true' is not an integer number of seconds")]
    [InlineData("""{"maximum_lag_on_failover":"1MB"}""", "maximum_lag_on_failover", "maximum_lag_on_failover: '1MB' is not an integer number of bytes")]
    public void NonNumbers_Throw(string json, string key, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Equal((key, message), (e.Key, e.Message));
    }

    [Fact]
    public void LegacyMasterTimeouts_AreReadWhenNewNamesAreAbsent()
    {
        Assert.Equal(120, Parse("""{"master_start_timeout":120}""").PrimaryStartTimeout);
        Assert.Equal(60, Parse("""{"primary_start_timeout":60,"master_start_timeout":120}""").PrimaryStartTimeout);
        Assert.Equal(7, Parse("""{"master_stop_timeout":"7"}""").PrimaryStopTimeout);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("\"on\"", true)]
    [InlineData("\"YES\"", true)]
    [InlineData("1", true)]
    [InlineData("\"off\"", false)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    public void Booleans_AcceptPatroniSpellings(string value, bool expected)
    {
        var c = Parse($$$"""{"failsafe_mode":{{{value}}},"pause":{{{value}}},"postgresql":{"use_pg_rewind":{{{value}}}}}""");
        Assert.Equal((expected, expected, expected), (c.FailsafeMode, c.Pause, c.UsePgRewind));
    }

    [Fact]
    public void InvalidBoolean_WarnsAndUsesDefault()
    {
        var warnings = new List<string>();
        Assert.False(Parse("""{"failsafe_mode":"maybe"}""", warnings).FailsafeMode);
        Assert.Equal(["failsafe_mode: 'maybe' is not a boolean, using false"], warnings);
    }

    [Theory]
    [InlineData("true", "on")]
    [InlineData("\"off\"", "off")]
    [InlineData("\"quorum\"", "quorum")]
    public void SynchronousMode_IsOnOffOrQuorum(string value, string expected) =>
        Assert.Equal(expected, Parse($$"""{"synchronous_mode":{{value}}}""").SynchronousMode);

    [Fact]
    public void Parameters_BecomeStrings_AndRawIsKept()
    {
        var json = (JsonObject)JsonNode.Parse("""
            {"postgresql":{"parameters":{"max_connections":100,"hot_standby":"on","wal_log_hints":true,"track_commit_timestamp":false,
             "checkpoint_completion_target":0.9,"shared_buffers":"128MB"},"pg_hba":["host all all 0.0.0.0/0 md5"]},"custom_key":{"a":1}}
            """)!;
        var c = DynamicConfigParser.Parse(json, new List<string>());
        Assert.Equal("100", c.Parameters["max_connections"]);
        Assert.Equal("on", c.Parameters["hot_standby"]);
        Assert.Equal("on", c.Parameters["wal_log_hints"]);
        Assert.Equal("off", c.Parameters["track_commit_timestamp"]);
        Assert.Equal("0.9", c.Parameters["checkpoint_completion_target"]);
        Assert.Equal("128MB", c.Parameters["shared_buffers"]);
        Assert.Equal(["host all all 0.0.0.0/0 md5"], c.PgHba);
        Assert.Same(json, c.Raw);
    }

    [Fact]
    public void RecordedPatroniConfigKey_KeepsItsShortTimings()
    {
        // The recorded 3.0.2 cluster ran ttl 10 / loop_wait 2 / retry_timeout 3: within the relation rule, kept as is.
        var warnings = new List<string>();
        var c = Parse("""
            {"ttl": 10, "loop_wait": 2, "retry_timeout": 3, "maximum_lag_on_failover": 1048576,
             "postgresql": {"use_pg_rewind": true, "use_slots": true, "parameters": {"wal_level": "replica", "hot_standby": "on"}}}
            """, warnings);
        Assert.Equal((10, 2, 3, true), (c.Ttl, c.LoopWait, c.RetryTimeout, c.UsePgRewind));
        Assert.Empty(warnings);
    }

    public static TheoryData<string, string[]> Strict => new()
    {
        { """{"ttl":30,"loop_wait":10,"retry_timeout":10,"postgresql":{"parameters":{"max_connections":100,"wal_level":"replica"}}}""", [] },
        { """{"ttl":5,"loop_wait":10,"retry_timeout":8}""", ["ttl 5 is below loop_wait + 2*retry_timeout = 26"] },
        { """{"ttl":30,"loop_wait":12,"retry_timeout":10}""", ["ttl 30 is below loop_wait + 2*retry_timeout = 32"] },
        { """{"ttl":"abc"}""", ["ttl: 'abc' is not an integer number of seconds"] },
        { """{"ttl":3,"loop_wait":0,"retry_timeout":0}""", ["ttl: 3 is below the minimum 4", "loop_wait: 0 is below the minimum 1", "retry_timeout: 0 is below the minimum 1"] },
        { """{"maximum_lag_on_failover":"lots"}""", ["maximum_lag_on_failover: 'lots' is not an integer number of bytes"] },
        { """{"synchronous_node_count":0}""", ["synchronous_node_count: 0 is below the minimum 1"] },
        { """{"failsafe_mode":"maybe"}""", ["failsafe_mode: 'maybe' is not a boolean (expected true/false, on/off, yes/no or 1/0)"] },
        { """{"synchronous_mode":"sometimes"}""", ["synchronous_mode: 'sometimes' is not a boolean or 'quorum'"] },
        { """{"postgresql":{"parameters":{"max_connections":-1}}}""", ["max_connections: -1 is below the minimum 25"] },
        { """{"postgresql":{"parameters":{"max_connections":"many"}}}""", ["max_connections: 'many' is not an integer"] },
        { """{"postgresql":{"parameters":{"max_wal_senders":2,"max_replication_slots":"3","max_worker_processes":1,"max_locks_per_transaction":31,"max_prepared_transactions":-1,"wal_keep_segments":0}}}""",
            ["max_wal_senders: 2 is below the minimum 3", "max_replication_slots: 3 is below the minimum 4", "max_worker_processes: 1 is below the minimum 2",
             "max_locks_per_transaction: 31 is below the minimum 32", "max_prepared_transactions: -1 is below the minimum 0", "wal_keep_segments: 0 is below the minimum 1"] },
        { """{"postgresql":{"parameters":{"wal_level":"minimal","hot_standby":"off","wal_log_hints":"sure","wal_keep_size":"8MB"}}}""",
            ["wal_level: 'minimal' is not one of hot_standby, replica, logical", "hot_standby: 'off' is not allowed, it must be on",
             "wal_log_hints: 'sure' is not a boolean (on/off)", "wal_keep_size: '8MB' is below the minimum 16MB"] },
        { """{"postgresql":{"parameters":{"wal_keep_size":"1GB","track_commit_timestamp":true}}}""", [] },
        { """{"postgresql":{"use_slots":"perhaps"}}""", ["postgresql.use_slots: 'perhaps' is not a boolean (expected true/false, on/off, yes/no or 1/0)"] },
    };

    [Theory]
    [MemberData(nameof(Strict))]
    public void ValidateStrict_ReportsEveryProblem(string json, string[] expected)
    {
        Assert.Equal(expected, DynamicConfigParser.ValidateStrict((JsonObject)JsonNode.Parse(json)!));
    }
}
