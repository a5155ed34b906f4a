using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>
/// The local PostgreSQL 15 server: files (postgresql.conf, pg_hba.conf, standby.signal, pgpass), the tools
/// (initdb, pg_ctl, pg_basebackup, pg_controldata) and SQL over a small local connection pool.
/// Split by concern: this file holds the state and what the HA loop reads each cycle (data directory, liveness,
/// probe); PostgresInstance.Provisioning.cs creates data directories (initdb, clone, rewind), .Lifecycle.cs starts,
/// stops and promotes the server, .Configuration.cs writes and reloads its configuration.
/// </summary>
public sealed partial class PostgresInstance : IPostgresInstance, IAsyncDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(3);

    private volatile AgentConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CommandRunner _runner;
    private readonly FileOwner _owner;
    private readonly LocalConnections _connections;
    private IReadOnlyList<string> _commandLineOptions = [];

    /// <param name="runAsOsUser">
    /// Only for root test processes: run the tools as this OS user (runuser) and give it the files written.
    /// The agent itself runs as the PostgreSQL OS user and leaves this null.
    /// </param>
    public PostgresInstance(AgentConfig config, ILogger logger, TimeProvider time, string? runAsOsUser = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _logger = logger;
        _time = time;
        _runner = new CommandRunner(config.Postgresql.BinDir, runAsOsUser, logger);
        _owner = new FileOwner(runAsOsUser);
        _connections = new LocalConnections(config);
        Listen = ListenAddress.Parse(config.Postgresql.Listen);
        PgpassPath = Path.GetFullPath(config.Postgresql.Pgpass
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "pgpass"));
    }

    /// <summary>Only what LocalConfigReload lets change (listen, data_dir and credentials keep their running values).</summary>
    public void UseLocalConfig(AgentConfig fresh) => _config = fresh;

    public string DataDir => _config.Postgresql.DataDir;

    public string ConfigDir => _config.Postgresql.EffectiveConfigDir;

    public string ConfFile => Path.Combine(ConfigDir, "postgresql.conf");

    public string PgpassPath { get; }

    public ListenAddress Listen { get; }

    /// <summary>Where the postmaster's stderr goes (pg_ctl -l).</summary>
    public string LogFile => Path.Combine(DataDir, "log", "postmaster.log");

    public DataDirectoryInfo InspectDataDirectory()
    {
        if (!Directory.Exists(DataDir) || !Directory.EnumerateFileSystemEntries(DataDir).Any())
            return new DataDirectoryInfo { HasData = false };
        var standby = File.Exists(Path.Combine(DataDir, "standby.signal"));
        // pg_controldata is a process spawn (a replica's loop asked for it every cycle): its output is kept until
        // global/pg_control changes. The file's mtime has the kernel's coarse clock tick, so a file written less
        // than a second before it was read is not trusted to be unchanged: the next call reads it again.
        var control = new FileInfo(Path.Combine(DataDir, "global", "pg_control"));
        var stamp = control.Exists ? (control.LastWriteTimeUtc, control.Length) : default;
        if (control.Exists && Volatile.Read(ref _controlDataCache) is { } cached && cached.Stamp == stamp)
            return cached.Info with { IsStandbyConfigured = standby };
        var readAt = DateTime.UtcNow;
        var result = _runner.Run("pg_controldata", [DataDir], TimeSpan.FromSeconds(10), CEnvironment);
        if (!result.Succeeded)
        {
            Volatile.Write(ref _controlDataCache, null);
            _logger.LogWarning("pg_controldata {DataDir} failed ({Code}): {Error}", DataDir, result.ExitCode, result.StdErr.Trim());
            return new DataDirectoryInfo { HasData = true, IsStandbyConfigured = standby };
        }
        var info = PgControlData.ToDataDirectoryInfo(result.StdOut, standby);
        Volatile.Write(ref _controlDataCache, control.Exists && readAt - stamp.LastWriteTimeUtc > TimeSpan.FromSeconds(1)
            ? new ControlDataSnapshot(stamp, info)
            : null);
        return info;
    }

    private ControlDataSnapshot? _controlDataCache;

    private sealed record ControlDataSnapshot((DateTime LastWriteTimeUtc, long Length) Stamp, DataDirectoryInfo Info);

    public bool IsPostmasterAlive() => PostmasterPid() is not null;

    /// <summary>The postmaster's pid when postmaster.pid names a live (not zombie) postgres process.</summary>
    public int? PostmasterPid()
    {
        var pidFile = PostmasterPidFile.Read(DataDir);
        if (pidFile is null) return null;
        var state = ProcStat.ReadState(pidFile.Pid);
        if (state is null or 'Z' or 'X' or 'x') return null;
        try
        {
            var comm = File.ReadAllText($"/proc/{pidFile.Pid}/comm").Trim();
            // A stale pid file whose pid now belongs to something else is not our postmaster.
            if (!comm.StartsWith("postgres", StringComparison.Ordinal) && !comm.StartsWith("postmaster", StringComparison.Ordinal)) return null;
        }
        catch (IOException) { return null; }
        return pidFile.Pid;
    }

    public async Task<PostgresProbe?> ProbeAsync(CancellationToken ct)
    {
        try
        {
            return await _connections.WithPooledAsync(ProbeQuery.RunAsync, ProbeDeadline, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException
                                   or OperationCanceledException && !ct.IsCancellationRequested)
        {
            _logger.LogDebug("Probe of {Host}:{Port} failed: {Error}", Listen.LocalHost, Listen.Port, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The liveness check: the postmaster accepts a connection and its fresh backend answers an SSLRequest; a server
    /// with ssl on (answer 'S') gets a fresh, unpooled login and SELECT 1 instead (see <see cref="PostmasterProbe"/>).
    /// </summary>
    public async Task<bool> CanConnectAsync(TimeSpan timeout, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var answer = await PostmasterProbe.AnswerAsync(Listen.LocalHost, Listen.Port, timeout, ct).ConfigureAwait(false);
        if (answer != 'S') return answer is not null;
        var left = timeout - _time.GetElapsedTime(started);
        return left > TimeSpan.Zero && await _connections.CanConnectAsync(left, ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var p in parameters) cmd.Parameters.AddWithValue(p);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private TimeSpan Remaining(DateTimeOffset deadline) => deadline - _time.GetUtcNow();

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string WholeSeconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static readonly Dictionary<string, string> CEnvironment = new() { ["LC_ALL"] = "C", ["LANG"] = "C" };
}
