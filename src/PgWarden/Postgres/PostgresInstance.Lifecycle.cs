using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>Starting, stopping and promoting the server, and what a switchover asks of it and of the candidate.</summary>
public sealed partial class PostgresInstance
{
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

    private async Task<bool> PgCtlStopAsync(StopMode mode, TimeSpan budget, CancellationToken ct)
    {
        if (budget < TimeSpan.FromSeconds(1)) budget = TimeSpan.FromSeconds(1);
        var modeName = mode switch { StopMode.Smart => "smart", StopMode.Fast => "fast", _ => "immediate" };
        // pg_ctl's -t has whole seconds; the runner enforces the fractional budget by killing pg_ctl.
        await _runner.RunAsync("pg_ctl", ["stop", "-D", DataDir, "-m", modeName, "-w", "-t", WholeSeconds(budget)], budget, ct).ConfigureAwait(false);
        return !IsPostmasterAlive();
    }
}
