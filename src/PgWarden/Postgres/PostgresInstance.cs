using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>
/// The local PostgreSQL 15 server: files (postgresql.conf, pg_hba.conf, standby.signal, pgpass), the tools
/// (initdb, pg_ctl, pg_basebackup, pg_controldata) and SQL over a small local connection pool.
/// </summary>
public sealed class PostgresInstance : IPostgresInstance, IAsyncDisposable
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

    public async Task InitDbAsync(CancellationToken ct)
    {
        _owner.CreateDirectory(DataDir, OwnerOnlyDir);
        var su = _config.Postgresql.Authentication.Superuser;
        string? pwfile = null;
        try
        {
            var args = new List<string> { "-D", DataDir, "--username=" + su.Username };
            if (su.Password is not null)
            {
                pwfile = Path.Combine(Path.GetTempPath(), $"pgwarden-pwfile-{Guid.NewGuid():N}");
                await _owner.WriteIfChangedAsync(pwfile, su.Password + "\n", OwnerOnly, ct).ConfigureAwait(false);
                args.Add("--pwfile=" + pwfile);
            }
            args.AddRange(_config.Bootstrap?.Initdb ?? []);
            // initdb fsyncs every file it wrote, one by one (about a second on a busy disk); one syncfs of the data
            // directory's filesystem afterwards gives the same durability, and it runs before PostgreSQL starts, long
            // before the initialize key says the cluster exists.
            var syncHere = !args.Any(a => a is "--no-sync" or "-N");
            if (syncHere) args.Add("--no-sync");
            _logger.LogInformation("initdb {DataDir}", DataDir);
            var result = await _runner.RunAsync("initdb", args, TimeSpan.FromMinutes(10), ct).ConfigureAwait(false);
            if (!result.Succeeded)
                throw new PostgresCommandException($"initdb -D {DataDir} failed with exit code {result.ExitCode}: {result.StdErr.Trim()}");
            if (syncHere) await SyncDataDirectoryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            if (pwfile is not null) File.Delete(pwfile);
        }

        var extraHba = _config.Bootstrap?.PgHba ?? [];
        if (extraHba.Count > 0)
        {
            var hba = Path.Combine(DataDir, "pg_hba.conf");
            var existing = File.Exists(hba) ? await File.ReadAllTextAsync(hba, ct).ConfigureAwait(false) : "";
            if (existing.Length > 0 && !existing.EndsWith('\n')) existing += "\n";
            await _owner.WriteIfChangedAsync(hba, existing + string.Join('\n', extraHba) + "\n", OwnerOnly, ct).ConfigureAwait(false);
        }
    }

    public async Task PostBootstrapAsync(CancellationToken ct)
    {
        var auth = _config.Postgresql.Authentication;
        await using var conn = await _connections.OpenAdminAsync(ct).ConfigureAwait(false);
        // Keep passwords out of the server log.
        await ExecuteAsync(conn, "SET log_statement TO 'none'; SET log_min_duration_statement TO -1; "
            + "SET log_min_error_statement TO 'panic'; SET standard_conforming_strings TO on", ct).ConfigureAwait(false);

        if (auth.Superuser.Password is not null)
            await ExecuteAsync(conn, $"ALTER ROLE {RoleSql.Ident(auth.Superuser.Username)} WITH PASSWORD {RoleSql.Literal(auth.Superuser.Password)}", ct).ConfigureAwait(false);
        await CreateOrUpdateRoleAsync(conn, auth.Replication.Username, auth.Replication.Password, ["REPLICATION", "LOGIN"], ct).ConfigureAwait(false);

        if (auth.Rewind is { } rewind && rewind.Username != auth.Superuser.Username)
        {
            await CreateOrUpdateRoleAsync(conn, rewind.Username, rewind.Password, ["LOGIN"], ct).ConfigureAwait(false);
            foreach (var function in RoleSql.RewindFunctions)
                await ExecuteAsync(conn, $"GRANT EXECUTE ON FUNCTION {function} TO {RoleSql.Ident(rewind.Username)}", ct).ConfigureAwait(false);
        }

        foreach (var user in _config.Bootstrap?.Users ?? [])
        {
            var options = user.Options.Select(RoleSql.Option).ToList();
            if (!options.Contains("LOGIN") && !options.Contains("NOLOGIN")) options.Add("LOGIN");
            await CreateOrUpdateRoleAsync(conn, user.Name, user.Password, options, ct).ConfigureAwait(false);
        }
        _logger.LogInformation("Post-bootstrap done: roles {Replication}{Rewind} ready", auth.Replication.Username,
            auth.Rewind is { } r && r.Username != auth.Superuser.Username ? ", " + r.Username : "");
    }

    public async Task CloneAsync(string host, int port, string? slotName, CancellationToken ct)
    {
        await WritePgpassAsync(ct).ConfigureAwait(false);
        var repl = _config.Postgresql.Authentication.Replication;
        var dsn = LibpqConnInfo.Render(
        [
            new("host", host),
            new("port", port.ToString(CultureInfo.InvariantCulture)),
            new("user", repl.Username),
            new("application_name", _config.Name),
            new("sslmode", repl.SslMode ?? "prefer"),
            new("sslcert", repl.SslCert),
            new("sslkey", repl.SslKey),
            new("sslrootcert", repl.SslRootCert),
        ]);
        var args = new List<string> { "--pgdata=" + DataDir, "-X", "stream", "--dbname=" + dsn, "--checkpoint=fast" };
        args.AddRange(_config.Postgresql.Basebackup);
        // As for initdb: one syncfs after the copy instead of pg_basebackup's fsync of every file, before PostgreSQL starts.
        var syncHere = !args.Any(a => a is "--no-sync" or "-N");
        if (syncHere) args.Add("--no-sync");
        var env = new Dictionary<string, string> { ["PGPASSFILE"] = PgpassPath };

        const int attempts = 2;
        string lastError = "";
        // The slot is created by pg_basebackup itself on the source, so it exists (and holds WAL) before the replica
        // ever streams: no window in which the standby asks for a slot the leader has not made yet.
        var createSlot = slotName is not null;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            EmptyDataDirectory();
            _owner.CreateDirectory(DataDir, OwnerOnlyDir);
            _logger.LogInformation("pg_basebackup from {Host}:{Port} into {DataDir} (attempt {Attempt})", host, port, DataDir, attempt);
            var attemptArgs = new List<string>(args);
            if (slotName is not null)
            {
                if (createSlot) attemptArgs.Add("--create-slot");
                attemptArgs.Add("--slot=" + slotName);
            }
            var result = await _runner.RunAsync("pg_basebackup", attemptArgs, TimeSpan.FromHours(12), ct, env).ConfigureAwait(false);
            if (result.Succeeded)
            {
                FileOwner.SetMode(DataDir, OwnerOnlyDir);
                if (syncHere) await SyncDataDirectoryAsync(ct).ConfigureAwait(false);
                return;
            }
            lastError = result.StdErr.Trim();
            EmptyDataDirectory();
            if (createSlot && lastError.Contains("already exists", StringComparison.Ordinal))
            {
                // The leader made our slot already (it keeps one per member key), or a re-clone: use it as it is.
                _logger.LogInformation("replication slot {Slot} already exists on {Host}:{Port}; cloning through it", slotName, host, port);
                createSlot = false;
                attempt--;
                continue;
            }
            _logger.LogWarning("pg_basebackup from {Host}:{Port} failed ({Code}): {Error}", host, port, result.ExitCode, lastError);
            if (attempt < attempts) await Task.Delay(TimeSpan.FromSeconds(5), _time, ct).ConfigureAwait(false);
        }
        throw new PostgresCommandException($"pg_basebackup from {host}:{port} failed {attempts} times; last error: {lastError}");
    }

    /// <summary>
    /// Makes everything initdb or pg_basebackup wrote durable: syncfs(2) of the data directory's filesystem (coreutils
    /// `sync -f`, one call however many files), else initdb --sync-only (fsync file by file, what the tools do
    /// themselves). Throws when neither works: a cluster must not be declared initialized on unsynced files.
    /// </summary>
    private async Task SyncDataDirectoryAsync(CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var syncTool = new[] { "/usr/bin/sync", "/bin/sync" }.FirstOrDefault(File.Exists);
        if (syncTool is not null)
        {
            // pg_wal may be a symlink to another filesystem (initdb --waldir): sync opens it through the link.
            var wal = Path.Combine(DataDir, "pg_wal");
            List<string> syncArgs = Directory.Exists(wal) ? ["-f", DataDir, wal] : ["-f", DataDir];
            var r = await _runner.RunAsync(syncTool, syncArgs, TimeSpan.FromMinutes(10), ct).ConfigureAwait(false);
            if (r.Succeeded)
            {
                DurabilityLog.Synced(_logger, DataDir, "syncfs", _time.GetElapsedTime(started).TotalMilliseconds);
                return;
            }
            DurabilityLog.SyncfsFailed(_logger, DataDir, r.StdErr.Trim());
        }
        else DurabilityLog.SyncfsFailed(_logger, DataDir, "no sync tool in /usr/bin or /bin");
        var fallback = await _runner.RunAsync("initdb", ["--sync-only", "-D", DataDir], TimeSpan.FromMinutes(10), ct).ConfigureAwait(false);
        if (!fallback.Succeeded)
            throw new PostgresCommandException($"initdb --sync-only -D {DataDir} failed with exit code {fallback.ExitCode}: {fallback.StdErr.Trim()}");
        DurabilityLog.Synced(_logger, DataDir, "initdb --sync-only", _time.GetElapsedTime(started).TotalMilliseconds);
    }

    public async Task<bool> WriteConfigurationAsync(RecoveryTarget? target, DynamicConfig dynamic, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dynamic);
        var changed = false;
        _owner.CreateDirectory(ConfigDir, OwnerOnlyDir);
        var baseConf = Path.Combine(ConfigDir, "postgresql.base.conf");
        if (!File.Exists(baseConf))
        {
            // Patroni's layout: the original postgresql.conf becomes the included base file, once.
            if (File.Exists(ConfFile)) File.Move(ConfFile, baseConf);
            else await _owner.WriteIfChangedAsync(baseConf, "", OwnerOnly, ct).ConfigureAwait(false);
            changed = true;
        }

        var controlSettings = target is not null ? InspectDataDirectory().Settings : null;
        var parameters = PostgresParameters.Build(_config, dynamic, target, PgpassPath, controlSettings);
        // synchronous_mode: the value the HA loop manages wins over the user's (Patroni's get_server_parameters).
        if (Volatile.Read(ref _synchronousStandbyNames) is { } managed) parameters.Values["synchronous_standby_names"] = managed;
        _lastWritten = (target, dynamic);
        foreach (var warning in parameters.Warnings) _logger.LogWarning("{Warning}", warning);
        changed |= await _owner.WriteIfChangedAsync(ConfFile, parameters.RenderConf(), OwnerOnly, ct).ConfigureAwait(false);
        _commandLineOptions = parameters.CommandLineOptions();

        var hbaFile = parameters.Values["hba_file"];
        if (hbaFile == Path.Combine(ConfigDir, "pg_hba.conf"))
            changed |= await _owner.WriteIfChangedAsync(hbaFile, PgHbaFile.Render(_config, dynamic), OwnerOnly, ct).ConfigureAwait(false);
        var identFile = parameters.Values["ident_file"];
        if (_config.Postgresql.PgIdent.Count > 0)
            changed |= await _owner.WriteIfChangedAsync(identFile, string.Join('\n', _config.Postgresql.PgIdent) + "\n", OwnerOnly, ct).ConfigureAwait(false);
        else if (!File.Exists(identFile))
            changed |= await _owner.WriteIfChangedAsync(identFile, "", OwnerOnly, ct).ConfigureAwait(false);

        var standbySignal = Path.Combine(DataDir, "standby.signal");
        if (target is not null && !File.Exists(standbySignal))
            changed |= await _owner.WriteIfChangedAsync(standbySignal, "", OwnerOnly, ct).ConfigureAwait(false);
        else if (target is null && File.Exists(standbySignal))
        {
            File.Delete(standbySignal);
            changed = true;
        }

        changed |= await RemoveRecoveryParametersFromAutoConfAsync(ct).ConfigureAwait(false);
        await WritePgpassAsync(ct).ConfigureAwait(false);
        return changed;
    }

    public async Task<bool> StartAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        if (!IsPostmasterAlive())
        {
            RestrictDataDirectoryMode();
            _owner.CreateDirectory(Path.GetDirectoryName(LogFile)!, OwnerOnlyDir);
            // pg_ctl hands -o to /bin/sh, so each option is shell-quoted; the postmaster detaches from us.
            var options = new List<string> { "--config-file=" + ConfFile };
            options.AddRange(_commandLineOptions);
            var args = new List<string> { "start", "-D", DataDir, "-l", LogFile, "-W", "-o", string.Join(' ', options.Select(ShellQuote)) };
            _logger.LogInformation("Starting PostgreSQL in {DataDir}", DataDir);
            var result = await _runner.RunAsync("pg_ctl", args, Max(Remaining(deadline), TimeSpan.FromSeconds(5)), ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                _logger.LogError("pg_ctl start failed ({Code}): {Error}", result.ExitCode, (result.StdErr + result.StdOut).Trim());
                return false;
            }
        }

        var startedAt = _time.GetUtcNow();
        while (true)
        {
            var remaining = Remaining(deadline);
            // remaining is negative when pg_ctl itself outlived the deadline: still ask once, never with a negative timeout.
            if (await _connections.AcceptsConnectionsAsync(Max(Min(remaining, TimeSpan.FromSeconds(1)), TimeSpan.Zero) + TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false))
                return true;
            // Gone (crashed at start-up): stop waiting. A missing pid file is allowed for a moment after pg_ctl -W.
            if (!IsPostmasterAlive() && _time.GetUtcNow() - startedAt > TimeSpan.FromSeconds(2))
            {
                _logger.LogError("PostgreSQL exited during start-up; see {LogFile}", LogFile);
                return false;
            }
            if (Remaining(deadline) <= TimeSpan.Zero) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false);
        }
    }

    public async Task StopAsync(StopMode mode, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        var pid = PostmasterPid();
        if (pid is null) return;

        // The requested mode gets most of the time; immediate gets what is left but a SIGKILL reserve.
        var killReserve = TimeSpan.FromMilliseconds(Math.Min(1000, timeout.TotalMilliseconds / 4));
        if (mode != StopMode.Immediate)
        {
            var share = TimeSpan.FromMilliseconds((timeout - killReserve).TotalMilliseconds * 0.6);
            if (await PgCtlStopAsync(mode, share, ct).ConfigureAwait(false)) return;
            _logger.LogWarning("PostgreSQL did not stop ({Mode}) in {Seconds:0.#} s; trying immediate", mode, share.TotalSeconds);
        }
        if (await PgCtlStopAsync(StopMode.Immediate, Remaining(deadline) - killReserve, ct).ConfigureAwait(false)) return;

        _logger.LogWarning("PostgreSQL did not stop in time; sending SIGKILL to postmaster {Pid} and its children", pid);
        var children = ProcStat.ChildrenOf(pid.Value);
        PosixSignals.Send(pid.Value, PosixSignals.SigKill);
        foreach (var child in children.Concat(ProcStat.ChildrenOf(pid.Value)).Distinct())
            PosixSignals.Send(child, PosixSignals.SigKill);
        while (IsPostmasterAlive() && Remaining(deadline) > TimeSpan.Zero)
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, ct).ConfigureAwait(false);
    }

    public async Task<bool> PromoteAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        // pg_ctl promote refuses without standby.signal; the primary configuration may already have removed it.
        var standbySignal = Path.Combine(DataDir, "standby.signal");
        if (!File.Exists(standbySignal) && await ProbeAsync(ct).ConfigureAwait(false) is { InRecovery: true })
            await _owner.WriteIfChangedAsync(standbySignal, "", OwnerOnly, ct).ConfigureAwait(false);
        // pg_promote(wait => false) on one admin connection signals the startup process at once, and the same
        // connection polls pg_is_in_recovery() every 10 ms (a promotion does not end sessions). `pg_ctl promote -w`
        // costs a process spawn and polls pg_control every 100 ms: this shaves 50-100 ms off every failover and
        // switchover. pg_ctl stays the fallback when SQL does not work.
        if (await PromoteOverSqlAsync(deadline, ct).ConfigureAwait(false) is { } promoted) return promoted;
        var result = await _runner.RunAsync("pg_ctl", ["promote", "-D", DataDir, "-w", "-t", WholeSeconds(timeout)],
            timeout + TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        if (!result.Succeeded)
            _logger.LogWarning("pg_ctl promote returned {Code}: {Error}", result.ExitCode, (result.StdErr + result.StdOut).Trim());
        while (true)
        {
            if (await ProbeAsync(ct).ConfigureAwait(false) is { InRecovery: false }) return true;
            if (Remaining(deadline) <= TimeSpan.Zero) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>True: promoted; false: signalled but still in recovery at the deadline; null: SQL failed (use pg_ctl).</summary>
    private async Task<bool?> PromoteOverSqlAsync(DateTimeOffset deadline, CancellationToken ct)
    {
        try
        {
            await using var conn = await _connections.OpenAdminAsync(ct).ConfigureAwait(false);
            await using (var promote = new NpgsqlCommand("SELECT pg_promote(false)", conn) { CommandTimeout = 5 })
            {
                if (await promote.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true) return null;
            }
            await using var poll = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn) { CommandTimeout = 5 };
            while (true)
            {
                if (await poll.ExecuteScalarAsync(ct).ConfigureAwait(false) is false) return true;
                if (Remaining(deadline) <= TimeSpan.Zero) return false;
                await Task.Delay(TimeSpan.FromMilliseconds(10), _time, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
        {
            DurabilityLog.PromoteOverSqlFailed(_logger, e.Message);
            return null;
        }
    }

    private string? _synchronousStandbyNames;
    private (RecoveryTarget? Target, DynamicConfig Dynamic)? _lastWritten;

    public string? SynchronousStandbyNames => Volatile.Read(ref _synchronousStandbyNames);

    public async Task SetSynchronousStandbyNamesAsync(string? value, CancellationToken ct)
    {
        var previous = Interlocked.Exchange(ref _synchronousStandbyNames, value);
        if (previous == value || _lastWritten is not { } last) return;
        if (await WriteConfigurationAsync(last.Target, last.Dynamic, ct).ConfigureAwait(false) && IsPostmasterAlive())
            await ReloadAsync(ct).ConfigureAwait(false);
    }

    public async Task ReloadAsync(CancellationToken ct)
    {
        var result = await _runner.RunAsync("pg_ctl", ["reload", "-D", DataDir], TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new PostgresCommandException($"pg_ctl reload -D {DataDir} failed with exit code {result.ExitCode}: {result.StdErr.Trim()}");
    }

    public async Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> slotNames, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(slotNames);
        foreach (var name in slotNames)
        {
            if (!SlotNames.IsValid(name))
                throw new ArgumentException($"Replication slot name '{name}' is invalid; expected ^[a-z0-9_]{{1,63}}$.", nameof(slotNames));
        }
        await using var conn = await _connections.OpenAdminAsync(ct).ConfigureAwait(false);
        var existing = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT slot_name::text, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) existing[reader.GetString(0)] = reader.GetBoolean(1);
        }
        foreach (var name in slotNames.Where(n => !existing.ContainsKey(n)))
        {
            _logger.LogInformation("Creating physical replication slot {Slot}", name);
            await ExecuteAsync(conn, "SELECT pg_catalog.pg_create_physical_replication_slot($1, true)", ct, name).ConfigureAwait(false);
        }
        foreach (var (name, active) in existing)
        {
            if (slotNames.Contains(name) || active) continue;
            _logger.LogInformation("Dropping physical replication slot {Slot}", name);
            await ExecuteAsync(conn, "SELECT pg_catalog.pg_drop_replication_slot($1)", ct, name).ConfigureAwait(false);
        }
    }

    public async Task CheckpointAsync(CancellationToken ct)
    {
        await using var conn = await _connections.OpenAdminAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("CHECKPOINT", conn) { CommandTimeout = 60 };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<long?> RemoteReceivedLsnAsync(string host, int port, CancellationToken ct)
    {
        var su = _config.Postgresql.Authentication.Superuser;
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Username = su.Username, Password = su.Password, Database = _config.Postgresql.Database,
            ApplicationName = "pgwarden", Timeout = 2, CommandTimeout = 2, Pooling = false, SslMode = SslMode.Prefer,
        };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("""
                SELECT CASE WHEN pg_catalog.pg_is_in_recovery()
                  THEN GREATEST(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn()) - '0/0'::pg_lsn
                  ELSE pg_catalog.pg_current_wal_flush_lsn() - '0/0'::pg_lsn END::bigint
                """, conn);
            return await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) is long l ? l : null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public async Task<bool?> RemoteIsPrimaryAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        var su = _config.Postgresql.Authentication.Superuser;
        var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Username = su.Username, Password = su.Password, Database = _config.Postgresql.Database,
            ApplicationName = "pgwarden", Timeout = seconds, CommandTimeout = seconds, Pooling = false, SslMode = SslMode.Prefer,
        };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT pg_catalog.pg_is_in_recovery()", conn);
            return await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) is bool inRecovery ? !inRecovery : null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public async Task<RewindResult> RewindAsync(string host, int port, CancellationToken ct)
    {
        if (IsPostmasterAlive()) return new RewindResult(false, "PostgreSQL is still running; pg_rewind needs it stopped");
        RestrictDataDirectoryMode();
        await WritePgpassAsync(ct).ConfigureAwait(false);
        var auth = _config.Postgresql.Authentication;
        var user = auth.Rewind ?? auth.Superuser;
        var dsn = LibpqConnInfo.Render(
        [
            new("host", host),
            new("port", port.ToString(CultureInfo.InvariantCulture)),
            new("user", user.Username),
            new("dbname", _config.Postgresql.Database),
            new("sslmode", user.SslMode ?? "prefer"),
        ]);
        var env = new Dictionary<string, string>(CEnvironment) { ["PGPASSFILE"] = PgpassPath };
        _logger.LogInformation("pg_rewind -D {DataDir} from {Host}:{Port}", DataDir, host, port);
        var result = await _runner.RunAsync("pg_rewind", ["-D", DataDir, "--source-server=" + dsn, "--progress"],
            TimeSpan.FromHours(1), ct, env).ConfigureAwait(false);
        var output = (result.StdErr + "\n" + result.StdOut).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!result.Succeeded)
        {
            var error = output.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("fatal", StringComparison.OrdinalIgnoreCase))
                        ?? output.LastOrDefault() ?? $"exit code {result.ExitCode}";
            return new RewindResult(false, $"pg_rewind exited with {result.ExitCode}: {error}");
        }
        var noop = output.Any(l => l.Contains("no rewind required", StringComparison.Ordinal));
        return new RewindResult(true, noop ? "no rewind required" : "rewound");
    }

    public async Task<IReadOnlyList<(int Timeline, long SwitchLsn, string Reason)>> ReadTimelineHistoryAsync(int timeline, CancellationToken ct)
    {
        var path = Path.Combine(DataDir, "pg_wal", TimelineHistory.FileName(timeline));
        if (timeline <= 1 || !File.Exists(path)) return [];
        return TimelineHistory.Parse(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false));
    }

    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    /// <summary>
    /// PostgreSQL (and pg_rewind's single-user crash recovery) refuse a data directory open to others; a careless
    /// chmod -R must not keep a node down, so put the mode back to 0700 when group/other have more than r-x.
    /// </summary>
    private void RestrictDataDirectoryMode()
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(DataDir)) return;
        var mode = File.GetUnixFileMode(DataDir);
        const UnixFileMode tooOpen = UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & tooOpen) == 0) return;
        _logger.LogWarning("data directory {DataDir} has mode {Mode}; restoring 0700 (PostgreSQL refuses to start otherwise)", DataDir, mode);
        FileOwner.SetMode(DataDir, OwnerOnlyDir);
    }

    private async Task WritePgpassAsync(CancellationToken ct)
    {
        var auth = _config.Postgresql.Authentication;
        var content = PgPassFile.Render(
        [
            (auth.Superuser.Username, auth.Superuser.Password),
            (auth.Replication.Username, auth.Replication.Password),
            (auth.Rewind?.Username ?? auth.Superuser.Username, auth.Rewind?.Password ?? auth.Superuser.Password),
        ]);
        var dir = Path.GetDirectoryName(PgpassPath);
        if (dir is not null && !Directory.Exists(dir)) _owner.CreateDirectory(dir, OwnerOnlyDir);
        await _owner.WriteIfChangedAsync(PgpassPath, content, OwnerOnly, ct).ConfigureAwait(false);
    }

    private async Task<bool> RemoveRecoveryParametersFromAutoConfAsync(CancellationToken ct)
    {
        var autoConf = Path.Combine(DataDir, "postgresql.auto.conf");
        if (!File.Exists(autoConf)) return false;
        var lines = await File.ReadAllLinesAsync(autoConf, ct).ConfigureAwait(false);
        var kept = lines.Where(l =>
        {
            var eq = l.IndexOf('=', StringComparison.Ordinal);
            return eq < 0 || l.TrimStart().StartsWith('#') || !PostgresParameters.RecoveryParameters.Contains(l[..eq].Trim());
        }).ToList();
        if (kept.Count == lines.Length) return false;
        _logger.LogInformation("Removing recovery parameters from {File}", autoConf);
        await _owner.WriteIfChangedAsync(autoConf, string.Join('\n', kept) + "\n", OwnerOnly, ct).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> PgCtlStopAsync(StopMode mode, TimeSpan budget, CancellationToken ct)
    {
        if (budget < TimeSpan.FromSeconds(1)) budget = TimeSpan.FromSeconds(1);
        var modeName = mode switch { StopMode.Smart => "smart", StopMode.Fast => "fast", _ => "immediate" };
        // pg_ctl's -t has whole seconds; the runner enforces the fractional budget by killing pg_ctl.
        await _runner.RunAsync("pg_ctl", ["stop", "-D", DataDir, "-m", modeName, "-w", "-t", WholeSeconds(budget)], budget, ct).ConfigureAwait(false);
        return !IsPostmasterAlive();
    }

    private async Task CreateOrUpdateRoleAsync(NpgsqlConnection conn, string name, string? password, IReadOnlyList<string> options, CancellationToken ct)
    {
        bool exists;
        await using (var cmd = new NpgsqlCommand("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", conn))
        {
            cmd.Parameters.AddWithValue(name);
            exists = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
        }
        var sql = $"{(exists ? "ALTER" : "CREATE")} ROLE {RoleSql.Ident(name)} WITH {string.Join(' ', options)}"
            + (password is null ? "" : " PASSWORD " + RoleSql.Literal(password));
        await ExecuteAsync(conn, sql, ct).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var p in parameters) cmd.Parameters.AddWithValue(p);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private void EmptyDataDirectory()
    {
        if (!Directory.Exists(DataDir)) return;
        foreach (var entry in new DirectoryInfo(DataDir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
            else entry.Delete();
        }
    }

    private TimeSpan Remaining(DateTimeOffset deadline) => deadline - _time.GetUtcNow();

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string WholeSeconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static readonly Dictionary<string, string> CEnvironment = new() { ["LC_ALL"] = "C", ["LANG"] = "C" };
}
