using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha.Operations;

/// <summary>
/// The node-side operations step of each HA cycle, run after the HA action and before publishing: queued
/// restarts and reinitializations, reloads, the leader's share of applying dynamic configuration, scheduled
/// restarts, pending-restart detection and the callbacks that follow state changes. Replicas get dynamic
/// configuration through the executor's Follow action (rewrite + reload every cycle).
/// </summary>
internal sealed class NodeOperations(AgentConfig config, IDcs dcs, IPostgresInstance pg, NodeStatusBoard board,
    TimeProvider time, ILogger log, HaRuntimeState state, OperationQueue queue, CallbackRunner callbacks) : IAsyncDisposable
{
    private readonly LocalConnections _connections = new(config);
    private long _lastInvalidRevision;
    private long _lastAppliedRevision;
    private object? _pendingKey;
    private string? _lastRunningRole;
    private bool _wasRunning;
    private bool _restartedThisCycle;
    private bool _reloadedThisCycle;

    /// <summary>After the local YAML was re-read (POST /reload, SIGHUP).</summary>
    public void UseLocalConfig(AgentConfig fresh) => config = fresh;

    /// <summary>After postgresql.callbacks changed in a re-read local YAML.</summary>
    public void UseCallbacks(CallbackRunner fresh) => callbacks = fresh;

    /// <summary>
    /// The one reload path of the agent (the leader's configuration step, a replica following its leader, a reload
    /// request): pg_ctl reload, then the on_reload callback, as Patroni's Postgresql.reload.
    /// </summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        await pg.ReloadAsync(ct);
        OperationLog.Reloaded(log);
        _pendingKey = null;
        _reloadedThisCycle = true;
        callbacks.Call("on_reload", CallbackRole());
    }

    public IReadOnlyList<PendingParameter> Pending { get; private set; } = [];

    private TimeSpan StopTimeout => TimeSpan.FromSeconds(Math.Max(config.Postgresql.PgCtlTimeout, 10));

    /// <summary>
    /// The config key as the loop should use it: a key that cannot be read never replaces the last good
    /// configuration; it is logged once per revision.
    /// </summary>
    public ClusterView ObserveConfig(ClusterView view)
    {
        if (view.InvalidConfig is { } bad)
        {
            if (bad.ModRevision != _lastInvalidRevision)
            {
                _lastInvalidRevision = bad.ModRevision;
                OperationLog.InvalidConfigIgnored(log, bad.ModRevision, bad.Error);
            }
            return view with { Config = new VersionedConfig(state.Dynamic, bad.ModRevision, state.Dynamic.Raw.ToJsonString()) };
        }
        if (view.Config is { } good && good.ModRevision != _lastAppliedRevision)
        {
            if (_lastAppliedRevision != 0 && good.Value != state.Dynamic) OperationLog.DynamicConfigChanged(log, good.ModRevision);
            _lastAppliedRevision = good.ModRevision;
        }
        return view;
    }

    public async Task AfterActionAsync(Decision decision, HaInput input, CancellationToken ct)
    {
        _restartedThisCycle = false;
        try { await AfterActionCoreAsync(decision, input, ct); }
        finally { _reloadedThisCycle = false; }
    }

    private async Task AfterActionCoreAsync(Decision decision, HaInput input, CancellationToken ct)
    {
        if (!state.ActionOwnsState)
        {
            if (queue.TakePending() is { } op)
            {
                try
                {
                    var outcome = op.Name == "restart"
                        ? await RestartAsync(op.Restart!, input, decision, "requested", ct)
                        : await ReinitializeAsync(input, ct);
                    op.Outcome.TrySetResult(outcome);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    OperationLog.RestartFailed(log, e.Message);
                    op.Outcome.TrySetResult(new OperationOutcome(503, op.Name == "restart" ? "restart failed" : "reinitialize failed"));
                }
                finally
                {
                    queue.Finished();
                }
            }
            else
            {
                await ApplyConfigurationAsync(decision, input, queue.TakeReload(), ct);
                await EvaluateScheduledRestartAsync(decision, input, ct);
            }
        }
        await CheckPendingRestartAsync(input, ct);
        ObserveStateForCallbacks();
    }

    /// <summary>The leader rewrites its files for the current dynamic configuration and reloads when they changed.</summary>
    private async Task ApplyConfigurationAsync(Decision decision, HaInput input, bool reloadRequested, CancellationToken ct)
    {
        if (reloadRequested) OperationLog.ReloadRequested(log);
        if (input.Probe is not { } probe || !pg.IsPostmasterAlive()) return;
        var changed = false;
        if (!probe.InRecovery && decision.Action is HaAction.RenewLock or HaAction.Nothing)
            changed = await pg.WriteConfigurationAsync(null, state.Dynamic, ct);
        else if (probe.InRecovery && reloadRequested && decision.Action == HaAction.Follow && decision.Target is not null)
            changed = await pg.WriteConfigurationAsync(UpstreamOf(input.View, decision.Target), state.Dynamic, ct);
        // A replica's Follow step may already have rewritten its files and reloaded (with on_reload) in this cycle.
        if (changed || (reloadRequested && !_reloadedThisCycle)) await ReloadAsync(ct);
    }

    private async Task CheckPendingRestartAsync(HaInput input, CancellationToken ct)
    {
        var probe = state.Probe;
        if (probe is null || state.ActionOwnsState || _restartedThisCycle || !pg.IsPostmasterAlive())
        {
            if (probe is null || _restartedThisCycle) Pending = [];
            return;
        }
        var key = (state.View?.Config?.ModRevision, probe.PostmasterStartTime, probe.InRecovery, string.Join(',', probe.PendingRestartParameters));
        if (Equals(_pendingKey, key)) return;
        try
        {
            var desired = PostgresParameters.Build(config, state.Dynamic, probe.InRecovery ? RecoveryTarget.NoUpstream : null, "",
                probe.InRecovery ? input.DataDir.Settings : null).Values;
            var pending = await PendingRestartCheck.RunAsync(_connections, desired, ct);
            if (pending.Count > 0 && !pending.SequenceEqual(Pending))
                OperationLog.PendingRestart(log, string.Join(", ", pending.Select(p => $"{p.Name}: {p.OldValue}->{p.NewValue}")));
            Pending = pending;
            _pendingKey = key;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException
                                   or OperationCanceledException && !ct.IsCancellationRequested)
        {
            OperationLog.PendingCheckFailed(log, e.Message);
        }
    }

    private static bool Matches(RestartRequest r, PostgresProbe? probe, bool pendingRestart)
    {
        if (r.Role is { } role)
        {
            var mine = probe is null ? null : probe.InRecovery ? "replica" : "master";
            if ((role is "primary" ? "master" : role) != mine) return false;
        }
        if (r.PostgresVersion is { } v && probe is not null && v <= probe.ServerVersion) return false;
        if (r.RestartPending && !pendingRestart) return false;
        return true;
    }

    private async Task<OperationOutcome> RestartAsync(RestartRequest r, HaInput input, Decision decision, string why, CancellationToken ct)
    {
        if (state.PgState == "starting") return new OperationOutcome(503, "postgres is still starting");
        if (!Matches(r, input.Probe, Pending.Count > 0 || input.Probe?.PendingRestart == true))
            return new OperationOutcome(503, "restart conditions are not satisfied");

        var primary = input.Probe is { InRecovery: false };
        var holdsLock = input.View?.Leader?.Name == config.Name;
        RecoveryTarget? target = primary ? null
            : UpstreamOf(input.View, decision.Action == HaAction.Follow ? decision.Target : input.View?.Leader?.Name);
        var role = primary ? "master" : "replica";
        OperationLog.Restarting(log, why);
        var started = time.GetTimestamp();

        state.ActionOwnsState = true;
        state.PgState = "restarting";
        await PublishMemberAsync(ct);

        using var renewStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewer = holdsLock && primary ? KeepLockAsync(input.View!.Leader, renewStop.Token) : Task.CompletedTask;
        bool ok;
        try
        {
            await pg.StopAsync(StopMode.Fast, StopTimeout, ct);
            state.MarkStopped();
            state.ActionOwnsState = true;
            state.PgState = "starting";
            await pg.WriteConfigurationAsync(target, state.Dynamic, ct);
            var timeout = TimeSpan.FromSeconds(Math.Max(r.TimeoutSeconds ?? state.Dynamic.PrimaryStartTimeout, 10));
            ok = await pg.StartAsync(timeout, ct);
        }
        finally
        {
            await renewStop.CancelAsync();
            await renewer;
        }
        state.PgState = ok ? "running" : "restart failed";
        state.Role = role;
        state.ActionOwnsState = false;
        _restartedThisCycle = true;
        Pending = [];
        _pendingKey = null;
        if (!ok)
        {
            OperationLog.RestartFailed(log, "PostgreSQL did not start in time");
            return new OperationOutcome(503, "restart failed");
        }
        state.Probe = await pg.ProbeAsync(ct);
        OperationLog.Restarted(log, time.GetElapsedTime(started).TotalSeconds);
        callbacks.Call("on_restart", role);
        _wasRunning = true;
        _lastRunningRole = role;
        return new OperationOutcome(200, "restarted successfully");
    }

    /// <summary>While a leader restarts, its lock is renewed every loop_wait so the restart never causes a failover.</summary>
    private async Task KeepLockAsync(LeaderKey? key, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, state.Dynamic.LoopWait)), time, ct);
                if (await dcs.UpdateLeaderAsync(key, ct)) state.LastLeaderRenewal = time.GetUtcNow();
            }
            catch (OperationCanceledException) { return; }
            catch (DcsException e) { OperationLog.RenewDuringRestartFailed(log, e.Message); }
        }
    }

    private async Task<OperationOutcome> ReinitializeAsync(HaInput input, CancellationToken ct)
    {
        if (input.View?.Leader is null) return new OperationOutcome(503, "Cluster has no leader, can not reinitialize");
        if (input.View.Leader.Name == config.Name) return new OperationOutcome(503, "I am the leader, can not reinitialize");
        OperationLog.Reinitializing(log, config.Postgresql.DataDir);
        state.ActionOwnsState = true;
        state.PgState = "creating replica";
        state.Role = "uninitialized";
        await PublishMemberAsync(ct);
        try
        {
            await pg.StopAsync(StopMode.Immediate, StopTimeout, ct);
            if (pg.IsPostmasterAlive()) throw new InvalidOperationException("PostgreSQL is still running after an immediate stop");
            callbacks.Call("on_stop", "replica");
            var dir = new DirectoryInfo(config.Postgresql.DataDir);
            if (dir.Exists)
            {
                foreach (var entry in dir.EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
                    else entry.Delete();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            OperationLog.ReinitializeFailed(log, e.Message);
            state.ActionOwnsState = false;
            return new OperationOutcome(503, "reinitialize failed");
        }
        // The data directory is empty now: the next cycle clones from the leader as at first start.
        state.MarkStopped();
        state.PgState = "creating replica";
        state.Probe = null;
        _wasRunning = false;
        state.ActionOwnsState = false;
        board.RequestWake();
        return new OperationOutcome(200, "reinitialize started");
    }

    private async Task EvaluateScheduledRestartAsync(Decision decision, HaInput input, CancellationToken ct)
    {
        if (queue.ScheduledRestart is not { } scheduled) return;
        if (scheduled["schedule"]?.ToString() is not { } text
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            queue.CancelScheduled();
            return;
        }
        var startTime = scheduled["postmaster_start_time"]?.ToString();
        var current = input.Probe?.PostmasterStartTime?.ToString("o", CultureInfo.InvariantCulture);
        if (startTime is not null && current is not null && startTime != current)
        {
            OperationLog.ScheduledRestartCancelled(log, $"postgres restart has already happened at {current}");
            queue.CancelScheduled();
            return;
        }
        var now = time.GetUtcNow();
        var loopWait = TimeSpan.FromSeconds(state.Dynamic.LoopWait);
        if (now < at - loopWait) return;
        if (now > at + loopWait * 1.5)
        {
            OperationLog.ScheduledRestartCancelled(log, $"the schedule {text} is more than 1.5 loop_wait in the past");
            queue.CancelScheduled();
            return;
        }
        if (at > now) await Task.Delay(at - now, time, ct);
        var request = new RestartRequest
        {
            RestartPending = scheduled.ContainsKey("restart_pending"),
            Role = scheduled["role"]?.ToString(),
            PostgresVersion = scheduled["postgres_version"]?.ToString() is { } v && PostgresVersionText.TryParse(v, out var n, out _) ? n : null,
        };
        try
        {
            await RestartAsync(request, input, decision, $"scheduled at {text}", ct);
        }
        finally
        {
            queue.CancelScheduled();
        }
    }

    /// <summary>on_start after a start, on_role_change when the running role changed, on_stop when it stopped.</summary>
    private void ObserveStateForCallbacks()
    {
        if (state.ActionOwnsState) return;
        var running = state.PgState == "running" && state.Probe is not null;
        // A probe that failed once (a pooled connection broken by the restart) is not a stop: wait for a verdict.
        if (!running && pg.IsPostmasterAlive()) return;
        var role = state.Probe is { } p ? (p.InRecovery ? "replica" : "master") : state.Role;
        if (running)
        {
            if (_restartedThisCycle) { /* on_restart already called */ }
            else if (_lastRunningRole is not null && _lastRunningRole != role) callbacks.Call("on_role_change", role);
            else if (!_wasRunning) callbacks.Call("on_start", role);
            _lastRunningRole = role;
        }
        else if (_wasRunning && state.PgState is "stopped")
        {
            callbacks.Call("on_stop", _lastRunningRole ?? state.Role);
        }
        _wasRunning = running;
    }

    /// <summary>SIGTERM: the executor stopped PostgreSQL; tell the on_stop callback.</summary>
    public void OnShutdown()
    {
        if (_wasRunning && !pg.IsPostmasterAlive()) callbacks.Call("on_stop", _lastRunningRole ?? state.Role);
    }

    private string CallbackRole() => state.Probe is { } p ? (p.InRecovery ? "replica" : "master") : state.Role;

    private async Task PublishMemberAsync(CancellationToken ct)
    {
        board.Publish(state.ToNodeStatus(config, board.Current));
        try
        {
            var member = MemberKeyBuilder.Build(config, state.PgState, state.Role, null, state.View?.Config?.Value.Pause ?? false, false)
                with { ScheduledRestart = queue.ScheduledRestart };
            await dcs.TouchMemberAsync(member, ct);
        }
        catch (DcsException e) { HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message); }
    }

    private RecoveryTarget UpstreamOf(ClusterView? view, string? member)
    {
        if (view is null || member is null || view.FindMember(member) is not { } m) return RecoveryTarget.NoUpstream;
        var (host, port) = m.Data.ParseConnUrl();
        if (host is null) return RecoveryTarget.NoUpstream;
        return new RecoveryTarget(host, port, state.Dynamic.UseSlots ? SlotNames.FromMemberName(config.Name) : null);
    }

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}
