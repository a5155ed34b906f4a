using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PrimaryTests(PrimaryFixture fixture)
{
    private PostgresInstance Pg => fixture.Primary.Instance;

    [Fact]
    public async Task Probe_reports_a_running_primary()
    {
        var probe = await Pg.ProbeAsync(CancellationToken.None);

        Assert.NotNull(probe);
        Assert.False(probe.InRecovery);
        Assert.InRange(probe.ServerVersion, 150000, 159999);
        Assert.Equal(1, probe.Timeline);
        Assert.True(probe.WalFlushLsn > 0);
        Assert.Equal(probe.WalFlushLsn, probe.WalPosition);
        Assert.NotNull(probe.PostmasterStartTime);
        Assert.Null(probe.ReplicationState);
        Assert.False(probe.PendingRestart);
    }

    [Fact]
    public async Task Enforced_parameters_are_in_effect()
    {
        Assert.Equal("50", await fixture.Primary.ScalarAsync("SHOW max_connections")); // dynamic wins over local 500
        Assert.Equal("pgtest", await fixture.Primary.ScalarAsync("SHOW cluster_name"));
        Assert.Equal("on", await fixture.Primary.ScalarAsync("SHOW wal_log_hints"));
        Assert.Equal("off", await fixture.Primary.ScalarAsync("SHOW fsync"));
        Assert.True(File.Exists(Path.Combine(Pg.DataDir, "postgresql.base.conf")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Pg.PgpassPath));
    }

    [Fact]
    public async Task Post_bootstrap_created_the_roles()
    {
        Assert.Equal(true, await fixture.Primary.ScalarAsync("SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'"));
        Assert.Equal(true, await fixture.Primary.ScalarAsync("SELECT rolcreatedb AND rolcanlogin FROM pg_roles WHERE rolname = 'app'"));
        Assert.Equal(true, await fixture.Primary.ScalarAsync("SELECT has_function_privilege('rewinder', 'pg_catalog.pg_ls_dir(text, boolean, boolean)', 'EXECUTE')"));
        // The superuser password set by PostBootstrap works over TCP with md5/scram.
        await using var conn = fixture.Primary.Connect();
        await conn.OpenAsync();
    }

    [Fact]
    public async Task Write_configuration_twice_reports_no_change_the_second_time()
    {
        await Pg.WriteConfigurationAsync(null, PgTestNode.Dynamic, CancellationToken.None);
        Assert.False(await Pg.WriteConfigurationAsync(null, PgTestNode.Dynamic, CancellationToken.None));

        var changedDynamic = PgTestNode.Dynamic with
        {
            Parameters = new Dictionary<string, string>(PgTestNode.Dynamic.Parameters) { ["work_mem"] = "5MB" },
        };
        Assert.True(await Pg.WriteConfigurationAsync(null, changedDynamic, CancellationToken.None));
        await Pg.ReloadAsync(CancellationToken.None);
        Assert.Equal("5MB", await Wait.UntilAsync(() => fixture.Primary.ScalarAsync("SHOW work_mem"), v => Equals(v, "5MB"), TimeSpan.FromSeconds(5)));

        Assert.True(await Pg.WriteConfigurationAsync(null, PgTestNode.Dynamic, CancellationToken.None));
        await Pg.ReloadAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Slots_are_created_and_unknown_inactive_ones_dropped()
    {
        await Pg.SyncReplicationSlotsAsync(["extra_one", "node2"], CancellationToken.None);
        Assert.Contains("extra_one", (await Pg.ProbeAsync(CancellationToken.None))!.ReplicationSlots);

        await Pg.SyncReplicationSlotsAsync(["node2"], CancellationToken.None);
        var slots = (await Pg.ProbeAsync(CancellationToken.None))!.ReplicationSlots;
        Assert.Contains("node2", slots);
        Assert.DoesNotContain("extra_one", slots);
    }

    [Fact]
    public void Data_directory_is_inspected_with_pg_controldata()
    {
        var info = Pg.InspectDataDirectory();
        Assert.True(info.HasData);
        Assert.Equal("in production", info.ClusterState);
        Assert.Equal(1, info.TimelineId);
        Assert.Matches("^[0-9]+$", info.SystemIdentifier);
        Assert.False(info.IsStandbyConfigured);
        Assert.True(Pg.IsPostmasterAlive());
    }

    [Fact]
    public async Task Pg_controldata_runs_again_only_once_pg_control_changed()
    {
        var runs = new RunCounter();
        var pg = new PostgresInstance(fixture.Primary.Config, runs, TimeProvider.System, Infrastructure.PgTestUser.Name);
        var control = Path.Combine(Pg.DataDir, "global", "pg_control");
        // A file written within the last second is not trusted (coarse mtime): wait until it is older than that.
        await Wait.UntilAsync(() => Task.FromResult(DateTime.UtcNow - File.GetLastWriteTimeUtc(control)), age => age > TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(10));
        var first = pg.InspectDataDirectory();
        var second = pg.InspectDataDirectory();
        Assert.Equal(first.CheckpointLsn, second.CheckpointLsn);
        Assert.Equal(1, runs.Count);

        await fixture.Primary.ScalarAsync("CREATE TABLE IF NOT EXISTS controldata_cache(x int); CHECKPOINT; SELECT 1");
        var third = pg.InspectDataDirectory();
        Assert.Equal(2, runs.Count);
        Assert.True(third.CheckpointLsn > first.CheckpointLsn, $"{third.CheckpointLsn} after CHECKPOINT vs {first.CheckpointLsn}");
    }

    /// <summary>Counts the tool runs CommandRunner logs (at debug level) for pg_controldata.</summary>
    private sealed class RunCounter : Microsoft.Extensions.Logging.ILogger
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).StartsWith("Running pg_controldata", StringComparison.Ordinal)) Interlocked.Increment(ref _count);
        }
    }

    [Fact]
    public void Missing_or_empty_data_directory_has_no_data()
    {
        var empty = Path.Combine(fixture.Root, "empty-" + Guid.NewGuid().ToString("N")[..6]);
        var config = fixture.Primary.Config with { Postgresql = fixture.Primary.Config.Postgresql with { DataDir = empty } };
        var pg = new PostgresInstance(config, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);
        Assert.False(pg.InspectDataDirectory().HasData);
        Directory.CreateDirectory(empty);
        Assert.False(pg.InspectDataDirectory().HasData);
        Assert.False(pg.IsPostmasterAlive());
    }

    [Fact]
    public async Task Probe_of_a_server_that_is_not_there_is_null_and_quick()
    {
        var config = fixture.Primary.Config with { Postgresql = fixture.Primary.Config.Postgresql with { Listen = "127.0.0.32:5999" } };
        await using var pg = new PostgresInstance(config, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);
        var started = DateTime.UtcNow;
        Assert.Null(await pg.ProbeAsync(CancellationToken.None));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
    }
}
