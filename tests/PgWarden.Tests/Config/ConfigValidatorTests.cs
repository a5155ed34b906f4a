using System.Text.Json.Nodes;
using PgWarden.Config;

namespace PgWarden.Tests.Config;

public class ConfigValidatorTests
{
    private static AgentConfig Config(string dataDir, string binDir = "", string? dcsJson = null, MemberTags? tags = null) => new()
    {
        Scope = "demo",
        Name = "node1",
        RestApi = new RestApiConfig { Listen = "127.0.0.1:8008", ConnectAddress = "127.0.0.1:8008" },
        Etcd3 = new EtcdConfig { Hosts = ["127.0.0.1:2379"] },
        Bootstrap = dcsJson is null ? null : new BootstrapConfig { DcsJson = dcsJson },
        Tags = tags ?? MemberTags.Empty,
        Postgresql = new PostgresqlConfig
        {
            Listen = "127.0.0.1:5432",
            ConnectAddress = "127.0.0.1:5432",
            DataDir = dataDir,
            BinDir = binDir,
            Authentication = new PgAuthentication
            {
                Superuser = new PgUser { Username = "postgres" },
                Replication = new PgUser { Username = "replicator" },
            },
        },
    };

    [Fact]
    public void ValidConfig_HasNoMessages()
    {
        using var dir = new TempDirectory();
        var binDir = Directory.Exists("/usr/lib/postgresql/15/bin") ? "/usr/lib/postgresql/15/bin" : "";
        Assert.Empty(ConfigValidator.Validate(Config(Path.Combine(dir.Path, "data"), binDir, """{"ttl":30}""")));
    }

    [Fact]
    public void FullExampleFile_LoadsAndValidates_ExceptItsRelativeBinDir()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("patroni.yml", ConfigLoaderTests.FullExample.Replace("data/postgresql0", Path.Combine(dir.Path, "pg0"), StringComparison.Ordinal));
        var config = ConfigLoader.Load(file, new Dictionary<string, string?>(), new List<string>());
        var messages = ConfigValidator.Validate(config);
        Assert.All(messages, m => Assert.StartsWith("postgresql.bin_dir", m, StringComparison.Ordinal));
    }

    [Fact]
    public void BootstrapDcs_NonNumericTtl_IsReportedWithItsFullKey()
    {
        using var dir = new TempDirectory();
        var yaml = ConfigLoaderTests.MinimalFile() + "bootstrap:\n  dcs:\n    ttl: abc\n    postgresql:\n      parameters:\n        max_connections: 10\n";
        var config = ConfigLoader.Load(dir.Write("p.yml", yaml), new Dictionary<string, string?>(), new List<string>());
        var messages = ConfigValidator.Validate(config with { Postgresql = config.Postgresql with { DataDir = dir.Path } });
        Assert.Equal(["bootstrap.dcs.ttl: 'abc' is not an integer number of seconds"], messages);

        var second = ConfigValidator.Validate(Config(dir.Path, dcsJson: """{"postgresql":{"parameters":{"max_connections":10}}}"""));
        Assert.Equal(["bootstrap.dcs.postgresql.parameters.max_connections: 10 is below the minimum 25"], second);
    }

    [Fact]
    public void DataDir_UnderARegularFile_CannotBeCreated()
    {
        // Root ignores permission bits, so "not creatable" is tested with a path whose parent is a regular file.
        using var dir = new TempDirectory();
        var file = dir.Write("file", "x");
        var dataDir = Path.Combine(file, "data");
        var messages = ConfigValidator.Validate(Config(dataDir));
        Assert.Equal([$"postgresql.data_dir: '{dataDir}' cannot be created: '{file}' is a file, not a directory"], messages);
    }

    [Fact]
    public void DataDir_ThatIsAFile_IsReported()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("pgdata", "x");
        Assert.Equal([$"postgresql.data_dir: '{file}' is a file, expected a directory"], ConfigValidator.Validate(Config(file)));
    }

    [Fact]
    public void DataDir_InANonWritableDirectory_IsReported()
    {
        // Even root cannot create files in /proc/self (procfs refuses), so the write probe fails for everyone;
        // mode-000 directories would not do: root bypasses permission bits.
        var messages = ConfigValidator.Validate(Config("/proc/self/pgdata"));
        Assert.Equal(["postgresql.data_dir: '/proc/self/pgdata' cannot be created: parent directory '/proc/self' is not writable by the current user"], messages);
        var existing = ConfigValidator.Validate(Config("/proc/self"));
        Assert.Equal(["postgresql.data_dir: directory '/proc/self' is not writable by the current user"], existing);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void DataDir_ModeZero_IsReportedUnlessRoot()
    {
        using var dir = new TempDirectory();
        var locked = Path.Combine(dir.Path, "locked");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var messages = ConfigValidator.Validate(Config(locked));
            if (Environment.UserName == "root") Assert.Empty(messages);   // root may read and write anyway: the probe says so
            else Assert.Equal([$"postgresql.data_dir: directory '{locked}' is not readable by the current user"], messages);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void BinDir_WithoutPgCtl_IsReported()
    {
        using var dir = new TempDirectory();
        Assert.Equal([$"postgresql.bin_dir: '{dir.Path}' does not contain pg_ctl"], ConfigValidator.Validate(Config(dir.Path, binDir: dir.Path)));
        Assert.Equal(["postgresql.bin_dir: directory '/nonexistent/bin' does not exist"], ConfigValidator.Validate(Config(dir.Path, binDir: "/nonexistent/bin")));
    }

    [Fact]
    public void ContradictoryTags_AreReported()
    {
        using var dir = new TempDirectory();
        var tags = new MemberTags(new Dictionary<string, JsonNode?>
        {
            ["nofailover"] = true, ["failover_priority"] = 1, ["nosync"] = false, ["sync_priority"] = -1,
        });
        Assert.Equal(
            ["tags: set at most one of nofailover and failover_priority", "tags: set at most one of nosync and sync_priority",
             "tags.sync_priority: '-1' is not an integer >= 0"],
            ConfigValidator.Validate(Config(dir.Path, tags: tags)));
    }

    [Fact]
    public void BadAddresses_AreReported()
    {
        using var dir = new TempDirectory();
        var c = Config(dir.Path);
        c = c with { RestApi = c.RestApi with { Listen = "localhost" }, Postgresql = c.Postgresql with { ConnectAddress = "h:0" } };
        Assert.Equal(["restapi.listen: 'localhost' is not host:port", "postgresql.connect_address: 'h:0' has port 0, expected 1..65535"],
            ConfigValidator.Validate(c));
    }
}
