using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>Creating and replacing the data directory: initdb and the bootstrap roles, pg_basebackup clones, pg_rewind.</summary>
public sealed partial class PostgresInstance
{
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

    private void EmptyDataDirectory()
    {
        if (!Directory.Exists(DataDir)) return;
        foreach (var entry in new DirectoryInfo(DataDir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
            else entry.Delete();
        }
    }
}
