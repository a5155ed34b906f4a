using PgWarden.Config;

namespace PgWarden.Tests.Config;

public class LocalConfigReloadTests
{
    private static AgentConfig Load(string yaml)
    {
        using var dir = new TempDirectory();
        return ConfigLoader.Load(dir.Write("patroni.yml", yaml), new Dictionary<string, string?>(), []);
    }

    private static readonly AgentConfig Running = Load(ConfigLoaderTests.FullExample);

    [Fact]
    public void Unchanged_file_changes_nothing()
    {
        var r = LocalConfigReload.Merge(Running, Load(ConfigLoaderTests.FullExample));
        Assert.Empty(r.Changed);
        Assert.Empty(r.NeedRestart);
    }

    [Fact]
    public void Parameters_pg_hba_tags_and_callbacks_are_taken_from_the_file()
    {
        var yaml = ConfigLoaderTests.FullExample
            .Replace("    work_mem: 8MB\n", "    work_mem: 16MB\n    log_min_duration_statement: 250\n", StringComparison.Ordinal)
            .Replace("  - local all all trust\n", "  - local all all trust\n  - host all all 10.0.0.0/8 md5\n", StringComparison.Ordinal)
            .Replace("  nofailover: false\n", "  nofailover: true\n", StringComparison.Ordinal)
            .Replace("/usr/local/bin/role-change.sh", "/opt/cb.sh", StringComparison.Ordinal);
        var r = LocalConfigReload.Merge(Running, Load(yaml));
        Assert.Equal(["tags", "postgresql.parameters", "postgresql.pg_hba", "postgresql.callbacks"], r.Changed);
        Assert.Empty(r.NeedRestart);
        Assert.Equal("16MB", r.Applied.Postgresql.Parameters["work_mem"]);
        Assert.Equal("250", r.Applied.Postgresql.Parameters["log_min_duration_statement"]);
        Assert.Equal(["local all all trust", "host all all 10.0.0.0/8 md5"], r.Applied.Postgresql.PgHba);
        Assert.True(r.Applied.Tags.NoFailover);
        Assert.Equal("/opt/cb.sh", r.Applied.Postgresql.Callbacks["on_role_change"]);
    }

    [Fact]
    public void Settings_the_running_processes_were_built_on_keep_their_values_and_are_named()
    {
        var yaml = ConfigLoaderTests.FullExample
            .Replace("name: postgresql0", "name: postgresql9", StringComparison.Ordinal)
            .Replace("  listen: 127.0.0.1:5432", "  listen: 127.0.0.1:5433", StringComparison.Ordinal)
            .Replace("data_dir: data/postgresql0", "data_dir: data/other", StringComparison.Ordinal)
            .Replace("  - 127.0.0.2:2379\n", "", StringComparison.Ordinal);
        var r = LocalConfigReload.Merge(Running, Load(yaml));
        Assert.Equal(["name", "DCS hosts", "postgresql.listen/connect_address", "postgresql.data_dir/config_dir/bin_dir"], r.NeedRestart);
        Assert.Equal(Running.Name, r.Applied.Name);
        Assert.Equal(Running.Postgresql.Listen, r.Applied.Postgresql.Listen);
        Assert.Equal(Running.Postgresql.DataDir, r.Applied.Postgresql.DataDir);
        Assert.Equal(Running.Etcd3!.Hosts, r.Applied.Etcd3!.Hosts);
    }
}
