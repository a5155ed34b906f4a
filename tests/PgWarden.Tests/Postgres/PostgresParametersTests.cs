using PgWarden.Config;
using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public class PostgresParametersTests
{
    private static readonly string Pgpass = "/var/lib/pg/pgpass";

    [Fact]
    public void Defaults_are_the_protected_set_plus_owned_values()
    {
        var v = PostgresParameters.Build(TestConfigs.Agent(), DynamicConfig.Default, null, Pgpass).Values;

        Assert.Equal("127.0.0.31", v["listen_addresses"]);
        Assert.Equal("5432", v["port"]);
        Assert.Equal("batman", v["cluster_name"]);
        Assert.Equal("replica", v["wal_level"]);
        Assert.Equal("on", v["hot_standby"]);
        Assert.Equal("on", v["wal_log_hints"]);
        Assert.Equal("10", v["max_wal_senders"]);
        Assert.Equal("10", v["max_replication_slots"]);
        Assert.Equal("100", v["max_connections"]);
        Assert.Equal("128MB", v["wal_keep_size"]);
        Assert.Equal("/var/lib/pg/data/pg_hba.conf", v["hba_file"]);
        Assert.Equal("/var/lib/pg/data/pg_ident.conf", v["ident_file"]);
        Assert.False(v.ContainsKey("primary_conninfo"));
    }

    [Fact]
    public void Protected_parameters_come_only_from_dynamic_and_local_overrides_the_rest()
    {
        var config = TestConfigs.Agent(p => p with
        {
            Parameters = new Dictionary<string, string>
            {
                ["max_connections"] = "500", ["work_mem"] = "8MB", ["port"] = "6000", ["shared_buffers"] = "256MB",
            },
        });
        var dynamic = new DynamicConfig
        {
            Parameters = new Dictionary<string, string>
            {
                ["max_connections"] = "200", ["work_mem"] = "4MB", ["wal_level"] = "hot_standby", ["cluster_name"] = "other",
            },
        };

        var p = PostgresParameters.Build(config, dynamic, null, Pgpass);

        Assert.Equal("200", p.Values["max_connections"]);
        Assert.Equal("8MB", p.Values["work_mem"]);
        Assert.Equal("256MB", p.Values["shared_buffers"]);
        Assert.Equal("5432", p.Values["port"]);
        Assert.Equal("batman", p.Values["cluster_name"]);
        Assert.Equal("replica", p.Values["wal_level"]);
        Assert.Contains(p.Warnings, w => w.Contains("max_connections", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("max_connections", "10", "100")]
    [InlineData("max_wal_senders", "2", "10")]
    [InlineData("hot_standby", "off", "on")]
    [InlineData("wal_level", "minimal", "replica")]
    [InlineData("wal_keep_size", "8MB", "128MB")]
    [InlineData("wal_keep_size", "1GB", "1024MB")]
    [InlineData("track_commit_timestamp", "true", "on")]
    public void Invalid_dynamic_values_fall_back_to_defaults(string name, string value, string expected)
    {
        var dynamic = new DynamicConfig { Parameters = new Dictionary<string, string> { [name] = value } };
        Assert.Equal(expected, PostgresParameters.Build(TestConfigs.Agent(), dynamic, null, Pgpass).Values[name]);
    }

    [Fact]
    public void Wal_keep_segments_is_converted_to_a_size()
    {
        var dynamic = new DynamicConfig { Parameters = new Dictionary<string, string> { ["wal_keep_segments"] = "10" } };
        var v = PostgresParameters.Build(TestConfigs.Agent(), dynamic, null, Pgpass).Values;
        Assert.Equal("160MB", v["wal_keep_size"]);
        Assert.False(v.ContainsKey("wal_keep_segments"));
    }

    [Fact]
    public void Standby_gets_recovery_settings_with_slot_of_own_member_name()
    {
        var p = PostgresParameters.Build(TestConfigs.Agent(name: "Node-1.dc"), DynamicConfig.Default,
            new RecoveryTarget("127.0.0.32", 5433, null), Pgpass);

        Assert.Equal("node_1_dc", p.Values["primary_slot_name"]);
        Assert.Equal("latest", p.Values["recovery_target_timeline"]);
        Assert.Equal("user=replicator passfile=/var/lib/pg/pgpass host=127.0.0.32 port=5433 sslmode=prefer "
            + "application_name=Node-1.dc gssencmode=prefer channel_binding=prefer", p.Values["primary_conninfo"]);
    }

    [Fact]
    public void No_slot_without_use_slots_and_recovery_parameters_from_maps_are_ignored()
    {
        var dynamic = new DynamicConfig { UseSlots = false, Parameters = new Dictionary<string, string> { ["primary_conninfo"] = "host=evil" } };
        var p = PostgresParameters.Build(TestConfigs.Agent(), dynamic, new RecoveryTarget("h", 5432, null), Pgpass);
        Assert.False(p.Values.ContainsKey("primary_slot_name"));
        Assert.DoesNotContain("evil", p.Values["primary_conninfo"], StringComparison.Ordinal);

        var primary = PostgresParameters.Build(TestConfigs.Agent(), dynamic, null, Pgpass);
        Assert.False(primary.Values.ContainsKey("primary_conninfo"));
    }

    [Fact]
    public void Standby_uses_higher_pg_controldata_values()
    {
        var control = new Dictionary<string, string> { ["max_connections"] = "300", ["max_worker_processes"] = "4" };
        var v = PostgresParameters.Build(TestConfigs.Agent(), DynamicConfig.Default, new RecoveryTarget("h", 5432, null), Pgpass, control).Values;
        Assert.Equal("300", v["max_connections"]);
        Assert.Equal("8", v["max_worker_processes"]);
    }

    [Fact]
    public void Rendered_conf_includes_base_first_and_quotes_values()
    {
        var dynamic = new DynamicConfig { Parameters = new Dictionary<string, string> { ["archive_command"] = @"cp '%p' C:\x" } };
        var conf = PostgresParameters.Build(TestConfigs.Agent(), dynamic, null, Pgpass).RenderConf();
        var lines = conf.Split('\n');

        var include = Array.IndexOf(lines, "include 'postgresql.base.conf'");
        var port = Array.IndexOf(lines, "port = '5432'");
        Assert.True(include >= 0 && port > include, conf);
        Assert.Contains(@"archive_command = 'cp ''%p'' C:\\x'", lines);
    }

    [Fact]
    public void Command_line_carries_the_enforced_parameters_but_not_wal_keep_size()
    {
        var options = PostgresParameters.Build(TestConfigs.Agent(), DynamicConfig.Default, null, Pgpass).CommandLineOptions();
        Assert.Contains("--listen_addresses=127.0.0.31", options);
        Assert.Contains("--max_connections=100", options);
        Assert.DoesNotContain(options, o => o.StartsWith("--wal_keep_size", StringComparison.Ordinal));
    }
}
