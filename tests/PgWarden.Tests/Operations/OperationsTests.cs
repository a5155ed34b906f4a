using System.Text.Json.Nodes;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Ctl;
using PgWarden.Ha.Operations;

namespace PgWarden.Tests.Operations;

public sealed class OperationsTests
{
    [Theory]
    [InlineData("128MB", "16384", "8kB", "integer", true)]
    [InlineData("256MB", "16384", "8kB", "integer", false)]
    [InlineData("200", "100", null, "integer", false)]
    [InlineData("100", "100", null, "integer", true)]
    [InlineData("on", "on", null, "bool", true)]
    [InlineData("true", "on", null, "bool", true)]
    [InlineData("off", "on", null, "bool", false)]
    [InlineData("pg_stat_statements", "", null, "string", false)]
    [InlineData("'pg_stat_statements, auto_explain'", "pg_stat_statements,auto_explain", null, "string", true)]
    [InlineData("1min", "60", "s", "integer", true)]
    [InlineData("1GB", "1024", "MB", "integer", true)]
    public void Configured_values_are_compared_in_the_servers_units(string configured, string setting, string? unit, string vartype, bool same) =>
        Assert.Equal(same, GucValue.Same(configured, setting, unit, vartype));

    [Fact]
    public void Settings_are_displayed_in_human_units()
    {
        Assert.Equal("128MB", GucValue.Display("16384", "8kB"));
        Assert.Equal("1min", GucValue.Display("60", "s"));
        Assert.Equal("100", GucValue.Display("100", null));
    }

    [Fact]
    public void Pending_restart_lists_changed_postmaster_parameters_and_what_postgres_flags()
    {
        var rows = new[]
        {
            ("shared_buffers", "16384", (string?)"8kB", "integer", false),
            ("max_connections", "100", (string?)null, "integer", false),
            ("hot_standby", "on", (string?)null, "bool", false),
            ("port", "5432", (string?)null, "integer", false),
            ("huge_pages", "try", (string?)null, "enum", true),
        };
        var desired = new Dictionary<string, string> { ["shared_buffers"] = "256MB", ["max_connections"] = "100", ["hot_standby"] = "off", ["port"] = "5432" };
        var pending = PendingRestartCheck.Compare(rows, desired);
        Assert.Equal(["huge_pages", "shared_buffers"], pending.Select(p => p.Name));
        Assert.Equal(("128MB", "256MB"), (pending[1].OldValue, pending[1].NewValue));
        var json = PendingRestartCheck.ToJson(pending)!;
        Assert.Equal("256MB", json["shared_buffers"]!["new_value"]!.ToString());
        Assert.Null(PendingRestartCheck.ToJson([]));
    }

    [Fact]
    public void Unified_diff_matches_the_recorded_patronictl_output()
    {
        var before = "a: 1\npostgresql:\n  parameters:\n    max_connections: 100\n    max_replication_slots: 10\n    max_wal_senders: 10\n    shared_buffers: 128MB\n    wal_keep_size: 128MB\n    wal_level: replica\n    wal_log_hints: 'on'\n  use_pg_rewind: true\n  use_slots: true\nretry_timeout: 3\n";
        var after = before.Replace("shared_buffers: 128MB", "shared_buffers: 256MB", StringComparison.Ordinal)
            .Replace("    wal_log_hints: 'on'\n", "    wal_log_hints: 'on'\n    work_mem: 8MB\n", StringComparison.Ordinal);
        var diff = UnifiedDiff.Render(before, after);
        Assert.Equal("""
            --- 
            +++ 
            @@ -4,10 +4,11 @@
                 max_connections: 100
                 max_replication_slots: 10
                 max_wal_senders: 10
            -    shared_buffers: 128MB
            +    shared_buffers: 256MB
                 wal_keep_size: 128MB
                 wal_level: replica
                 wal_log_hints: 'on'
            +    work_mem: 8MB
               use_pg_rewind: true
               use_slots: true
             retry_timeout: 3

            """.Replace("\r", "", StringComparison.Ordinal), diff);
        Assert.Equal("", UnifiedDiff.Render(before, before));
    }

    [Fact]
    public void Set_parses_yaml_values_keeps_dotted_parameter_names_and_null_deletes()
    {
        var config = new JsonObject { ["ttl"] = 30, ["postgresql"] = new JsonObject { ["parameters"] = new JsonObject { ["work_mem"] = "4MB" } } };
        ConfigEdit.Set(config, "ttl=20");
        ConfigEdit.Set(config, "postgresql.parameters.pg_stat_statements.max=1000");
        ConfigEdit.Set(config, "postgresql.parameters.work_mem=null");
        ConfigEdit.Set(config, "synchronous_mode=true");
        ConfigEdit.Set(config, "postgresql.pg_hba=[\"host all all 0.0.0.0/0 md5\"]");
        Assert.Equal(20, config["ttl"]!.GetValue<int>());
        var parameters = config["postgresql"]!["parameters"]!.AsObject();
        Assert.Equal(1000, parameters["pg_stat_statements.max"]!.GetValue<int>());
        Assert.False(parameters.ContainsKey("work_mem"));
        Assert.True(config["synchronous_mode"]!.GetValue<bool>());
        Assert.Equal("host all all 0.0.0.0/0 md5", config["postgresql"]!["pg_hba"]![0]!.ToString());
        Assert.Throws<ConfigException>(() => ConfigEdit.Set(config, "novalue"));
    }

    [Fact]
    public void Merge_is_recursive_and_null_deletes()
    {
        var config = new JsonObject { ["ttl"] = 30, ["postgresql"] = new JsonObject { ["use_slots"] = true, ["parameters"] = new JsonObject { ["a"] = 1 } } };
        ConfigEdit.Merge(config, new JsonObject { ["ttl"] = null, ["postgresql"] = new JsonObject { ["parameters"] = new JsonObject { ["b"] = 2 } } });
        Assert.False(config.ContainsKey("ttl"));
        Assert.Equal("""{"postgresql":{"use_slots":true,"parameters":{"a":1,"b":2}}}""", config.ToJsonString());
    }

    [Theory]
    [InlineData("""{"role":"leader"}""", 400, "PostgreSQL role should be either primary or replica")]
    [InlineData("""{"postgres_version":"10"}""", 400, "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10")]
    [InlineData("""{"timeout":"-3"}""", 400, "Timeout should be a positive number of seconds")]
    [InlineData("""{"foo":1}""", 400, "Unknown filter for the scheduled restart: foo")]
    [InlineData("""{"schedule":"2020-01-01T00:00:00+00:00"}""", 422, "Cannot schedule restart in the past")]
    [InlineData("""{"schedule":"2099-01-01T00:00:00"}""", 400, "Timezone information is mandatory for the scheduled restart")]
    [InlineData("""{"schedule":"tomorrow"}""", 422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601")]
    public void Restart_bodies_are_refused_with_patronis_messages(string body, int code, string message)
    {
        var (error, actualCode, _) = OperationEndpoints.ParseRestart((JsonObject)JsonNode.Parse(body)!, DateTimeOffset.UtcNow, paused: false);
        Assert.Equal((message, code), (error, actualCode));
    }

    [Fact]
    public void A_valid_restart_body_becomes_a_request()
    {
        var (error, _, request) = OperationEndpoints.ParseRestart(
            (JsonObject)JsonNode.Parse("""{"restart_pending":true,"role":"master","postgres_version":"15.4","timeout":"30s","schedule":"2099-01-01T00:00:00+00:00"}""")!,
            DateTimeOffset.UtcNow, paused: false);
        Assert.Null(error);
        Assert.Equal((true, "master", 150004, 30), (request!.RestartPending, request.Role, request.PostgresVersion!.Value, request.TimeoutSeconds!.Value));
        Assert.NotNull(request.Schedule);
        Assert.Equal("Can't schedule restart in the paused state",
            OperationEndpoints.ParseRestart((JsonObject)JsonNode.Parse("""{"schedule":"2099-01-01T00:00:00+00:00"}""")!, DateTimeOffset.UtcNow, paused: true).Error);
    }

    [Fact]
    public void Callback_commands_split_like_shlex()
    {
        Assert.Equal(["/bin/cb.sh", "--flag", "a b", "c\"d"], ShellWords.Split("/bin/cb.sh --flag 'a b' \"c\\\"d\""));
    }

    [Fact]
    public void Strict_validation_names_key_and_value()
    {
        Assert.Contains(DynamicConfigParser.ValidateStrict(new JsonObject { ["ttl"] = 5, ["loop_wait"] = 10 }), e => e.Contains("ttl", StringComparison.Ordinal));
        Assert.Contains(DynamicConfigParser.ValidateStrict(new JsonObject { ["ttl"] = "abc" }), e => e.Contains("'abc'", StringComparison.Ordinal));
        var bad = DynamicConfigParser.ValidateStrict(new JsonObject { ["postgresql"] = new JsonObject { ["parameters"] = new JsonObject { ["max_connections"] = -1 } } });
        Assert.Contains(bad, e => e.Contains("max_connections", StringComparison.Ordinal) && e.Contains("-1", StringComparison.Ordinal));
    }
}
