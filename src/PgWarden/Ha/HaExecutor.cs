using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// Carries out one <see cref="Decision"/> against PostgreSQL and the DCS. Role-changing DCS writes are
/// compare-and-set; a failure part-way leaves the DCS as it was (bootstrap cancels its initialize key).
/// Split by concern: this file (dispatch, start, lock, promotion, demotion, shutdown), HaExecutor.Bootstrap.cs
/// (initdb and cloning), HaExecutor.Rejoin.cs (rewind, re-clone, staying stopped), HaExecutor.Failsafe.cs.
/// </summary>
internal sealed partial class HaExecutor
{
    private AgentConfig config;
    private readonly IDcs dcs;
    private readonly IPostgresInstance pg;
    private readonly NodeStatusBoard board;
    private readonly TimeProvider time;
    private readonly ILogger log;
    private readonly HaRuntimeState state;
    private readonly SafetyServices safety;
    private readonly SynchronousStandbyManager _sync;

    public HaExecutor(AgentConfig config, IDcs dcs, IPostgresInstance pg, NodeStatusBoard board,
        TimeProvider time, ILogger log, HaRuntimeState state, SafetyServices safety)
    {
        this.config = config;
        this.dcs = dcs;
        this.pg = pg;
        this.board = board;
        this.time = time;
        this.log = log;
        this.state = state;
        this.safety = safety;
        _sync = new(config.Name, dcs, pg, log, time);
    }

    private TimeSpan StartTimeout => TimeSpan.FromSeconds(Math.Max(config.Postgresql.PgCtlTimeout, 10));
    private TimeSpan StopTimeout => TimeSpan.FromSeconds(Math.Max(config.Postgresql.PgCtlTimeout, 10));

    /// <summary>A primary that lost the DCS must be read-only before its lock can expire: its stop is bounded tightly.</summary>
    internal TimeSpan FencingStopBudget => TimeSpan.FromSeconds(Math.Max(2, Math.Min(state.Dynamic.RetryTimeout, 5)));

    /// <summary>How long the old leader waits for the candidate to receive its shutdown checkpoint before releasing the lock.</summary>
    private static readonly TimeSpan HandoverWait = TimeSpan.FromSeconds(10);

    /// <summary>Returns an exit code when the agent must stop.</summary>
    public async Task<int?> ExecuteAsync(Decision decision, HaInput input, CancellationToken ct)
    {
        switch (decision.Action)
        {
            case HaAction.Nothing:
            case HaAction.WaitForDcs:
                return null;
            case HaAction.FatalSystemIdMismatch:
                HaLog.Fatal(log, decision.Reason);
                return 1;
            case HaAction.DemoteOffline:
                await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct, FencingStopBudget);
                return null;
            case HaAction.RenewAndClearFailover:
                if (await RenewAsync(input, ct) && input.View?.Failover is { } stale)
                    await dcs.SetFailoverAsync("{}", stale.ModRevision, ct);
                return null;
            case HaAction.GracefulSwitchover:
                if (await RenewAsync(input, ct)) await SwitchoverAsync(input, decision.Target!, ct);
                return null;
            case HaAction.ReleaseHungPrimary:
                await ReleaseHungPrimaryAsync(ct);
                return null;
            case HaAction.ReleaseLock:
                await ReleaseLockAsync(null, ct);
                return null;
            case HaAction.Rewind:
                await RewindAsync(input, decision.Target!, ct);
                return null;
            case HaAction.Reinitialize:
                await ReinitializeAsync(input, decision.Target!, ct);
                return null;
            case HaAction.StayStopped:
                await StayStoppedAsync(ct);
                return null;
            case HaAction.FailsafeHold:
                // ConfirmFailsafeAsync already counted the confirmation as a renewal (fence, watchdog).
                return null;
            case HaAction.DemoteAndReleaseLock:
                await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct, FencingStopBudget);
                await ReleaseLockAsync(null, ct);
                return null;
            case HaAction.RaceForBootstrap:
                return await BootstrapAsync(input, ct);
            case HaAction.CloneFromMember:
                await CloneAsync(input.View!, decision.Target!, ct);
                return null;
            case HaAction.ClaimInitialize:
                await dcs.InitializeAsync(create: true, input.DataDir.SystemIdentifier ?? "", ct);
                return null;
            case HaAction.StartAsPrimary:
                // The view may come from the watch cache: only a fresh renewal proves the lock is still ours.
                if (await RenewAsync(input, ct)) await StartAsync(null, ct);
                else await StartAsync(RecoveryTarget.NoUpstream, ct);
                return null;
            case HaAction.StartAsReplica:
                await StartAsync(UpstreamOf(input.View!, decision.Target), ct);
                return null;
            case HaAction.RenewLock:
                await RenewAsync(input, ct);
                return null;
            case HaAction.Promote:
                if (await RenewAsync(input, ct)) await PromoteAsync(input, ct);
                return null;
            case HaAction.AcquireLock:
                await AcquireAsync(input, ct);
                return null;
            case HaAction.Follow:
                await FollowAsync(input, decision.Target, ct);
                return null;
            case HaAction.DemoteToReplica:
                await DemoteAsync(StopMode.Immediate, UpstreamOf(input.View!, decision.Target), ct);
                return null;
            default:
                throw new UnreachableException($"unhandled HA action {decision.Action}");
        }
    }

    private RecoveryTarget UpstreamOf(ClusterView view, string? member)
    {
        if (member is null || view.FindMember(member) is not { } m) return RecoveryTarget.NoUpstream;
        var (host, port) = m.Data.ParseConnUrl();
        if (host is null) return RecoveryTarget.NoUpstream;
        return new RecoveryTarget(host, port, state.Dynamic.UseSlots ? SlotNames.FromMemberName(config.Name) : null);
    }

    private async Task StartAsync(RecoveryTarget? target, CancellationToken ct)
    {
        SetActionState("starting", target is null ? "master" : "replica");
        board.Publish(state.ToNodeStatus(config, board.Current));
        if (target is { HasUpstream: true })
        {
            // A standby streams through its own slot, which the leader creates only for members it sees. After an
            // expiry (agent killed or frozen) our member key is gone, and a standby that is not yet consistent
            // (after pg_rewind) waits for that slot: publish the key before waiting for the start (fault suite:
            // rejoins stalled for pg_ctl_timeout, 60 s).
            try { await dcs.TouchMemberAsync(MemberKeyBuilder.Build(config, "starting", "replica", null, state.View?.Config?.Value.Pause ?? false, false), ct); }
            catch (DcsException e) { HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message); }
        }
        await pg.WriteConfigurationAsync(target, state.Dynamic, ct);
        var ok = await pg.StartAsync(StartTimeout, ct);
        if (!ok) HaLog.StartTimedOut(log, (int)StartTimeout.TotalSeconds);
        ReleaseActionState(ok ? "running" : "start failed", target is null ? "master" : "replica");
    }

    /// <summary>Renew the lock; on loss demote at once (another node may already be promoting).</summary>
    private async Task<bool> RenewAsync(HaInput input, CancellationToken ct)
    {
        bool renewed;
        var started = time.GetTimestamp();
        try
        {
            renewed = await dcs.UpdateLeaderAsync(input.View?.Leader, ct);
        }
        catch (DcsException e)
        {
            HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message);
            if (input.Probe is { InRecovery: false })
            {
                if (await ConfirmFailsafeAsync(e.Kind.ToString(), ct) is { AllAccepted: true }) return false;
                FailoverLog.DemotingWithoutDcs(log, e.Message);
                await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct, FencingStopBudget);
            }
            return false;
        }

        if (!renewed)
        {
            HaLog.LostLock(log);
            state.ForgetLock();
            if (input.Probe is { InRecovery: false }) await DemoteAsync(StopMode.Immediate, RecoveryTarget.NoUpstream, ct, FencingStopBudget);
            return false;
        }

        state.RenewedAtTimestamp = started;
        state.LastLeaderRenewal = time.GetUtcNow();
        safety.Failsafe.ActiveAsLeader = false;
        if (input.Probe is { InRecovery: false } probe)
        {
            // In maintenance mode the watchdog stays disarmed (as in Patroni): arming it here only for the loop to
            // disarm it again would write a keepalive and a magic close every cycle.
            if (!state.Dynamic.Pause)
            {
                if (!safety.Watchdog.Activate(state.Dynamic))
                {
                    SafetyLog.WatchdogRefusesLeadership(log, "the required watchdog could not be activated");
                    await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct, FencingStopBudget);
                    await ReleaseLockAsync(null, ct);
                    return false;
                }
                safety.Watchdog.Keepalive();
            }
            try { await PublishLeaderStateAsync(input.View!, probe, ct); }
            catch (DcsException e)
            {
                // The lock itself was renewed; a failed status/history write is retried next cycle and must not
                // abort the cycle (the synchronous standby and failsafe bookkeeping below still run).
                HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message);
            }
            await _sync.ProcessAsync(input.View!, state.Dynamic, probe, ct);
            await WriteFailsafeTopologyAsync(input.View!, ct);
        }
        return true;
    }

    /// <summary>The leader's per-cycle duties: status optime, member slots, timeline history.</summary>
    private async Task PublishLeaderStateAsync(ClusterView view, PostgresProbe probe, CancellationToken ct)
    {
        var slots = state.Dynamic.UseSlots
            ? view.Members.Where(m => m.Name != config.Name && m.Data.Tags?["nostream"] is null
                                      && (m.Data.Tags?["replicatefrom"]?.ToString() is not { } from || view.FindMember(from) is null))
                .Select(m => SlotNames.FromMemberName(m.Name)).ToHashSet()
            : [];
        await pg.SyncReplicationSlotsAsync(slots, ct);

        if (probe.WalFlushLsn is { } lsn && view.Status?.Optime != lsn)
            await dcs.WriteStatusAsync(lsn, null, ct);

        if (probe.Timeline > 1 && (view.History is null || view.History.Count < probe.Timeline - 1))
        {
            var lines = await pg.ReadTimelineHistoryAsync(probe.Timeline, ct);
            var known = view.History ?? [];
            var json = new System.Text.Json.Nodes.JsonArray();
            for (var i = 0; i < lines.Count; i++)
            {
                var (tl, switchLsn, reason) = lines[i];
                var prev = i < known.Count ? known[i] : null;
                var isNewest = i == lines.Count - 1;
                var timestamp = prev?.Timestamp ?? (isNewest ? time.GetLocalNow().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz") : null);
                var line = new System.Text.Json.Nodes.JsonArray(tl, switchLsn, reason);
                // Add(JsonNode) through the implicit conversions, not the generic Add<T>, which serializes by reflection.
                if (timestamp is not null) line.Add((System.Text.Json.Nodes.JsonNode)timestamp);
                if (prev?.NewLeader is { } nl) line.Add((System.Text.Json.Nodes.JsonNode)nl);
                else if (isNewest) line.Add((System.Text.Json.Nodes.JsonNode)config.Name);
                json.Add((System.Text.Json.Nodes.JsonNode)line);
            }
            await dcs.SetHistoryAsync(json.ToJsonString(), ct);
        }
    }

    private async Task PromoteAsync(HaInput input, CancellationToken ct)
    {
        if (!state.Dynamic.Pause && !safety.Watchdog.Activate(state.Dynamic))
        {
            SafetyLog.WatchdogRefusesLeadership(log, "the required watchdog could not be activated; releasing the leader lock");
            await ReleaseLockAsync(null, ct);
            return;
        }
        if (input.View is { } view && !await _sync.PrepareForPromotionAsync(view, state.Dynamic, ct))
        {
            safety.Watchdog.Disarm("promotion postponed");
            return;
        }
        var promoteStart = time.GetTimestamp();
        SetActionState("running", "promoted");
        try
        {
            if (!await pg.PromoteAsync(StartTimeout, ct))
            {
                HaLog.PromoteFailed(log, "the server stayed in recovery");
                ReleaseActionState("running", "replica");
                return;
            }
            ReleaseActionState("running", "master");
            FailoverLog.Promoted(log, time.GetElapsedTime(promoteStart).TotalMilliseconds);
            // Clean the recovery settings so a restart comes back as a primary.
            await pg.WriteConfigurationAsync(null, state.Dynamic, ct);
            await pg.ReloadAsync(ct);
            // pg_rewind on a former primary reads the new timeline from our pg_control: checkpoint now (Patroni does too).
            try { await pg.CheckpointAsync(ct); }
            catch (Exception e) when (e is not OperationCanceledException) { FailoverLog.CheckpointFailed(log, e.Message); }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.PromoteFailed(log, e.Message);
            ReleaseActionState("running", "replica");
        }
    }

    private async Task AcquireAsync(HaInput input, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        if (!await dcs.AttemptToAcquireLeaderAsync(ct))
        {
            HaLog.LostLeaderRace(log, "another member");
            return;
        }
        state.RenewedAtTimestamp = started;
        state.LastLeaderRenewal = time.GetUtcNow();
        // Promote first (in this same cycle): every second without a primary is a second without writes.
        if (input.Probe is { InRecovery: true }) await PromoteAsync(input, ct);
        // A new leader clears any failover request (Patroni writes {} without compare).
        if (input.View?.Failover is { IsEmpty: false })
        {
            try { await dcs.SetFailoverAsync("{}", null, ct); }
            catch (DcsException e) { HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message); }
        }
    }

    /// <summary>A reload (re-pointing or new parameters) also runs the on_reload callback: set by the loop.</summary>
    internal Func<CancellationToken, Task>? Reload { get; set; }

    /// <summary>After the local YAML was re-read (POST /reload, SIGHUP).</summary>
    internal void UseLocalConfig(AgentConfig fresh) => config = fresh;

    private async Task FollowAsync(HaInput input, string? target, CancellationToken ct)
    {
        if (target is null) return; // no leader: keep streaming settings as they are until one appears
        var upstream = UpstreamOf(input.View!, target);
        // The leader key can be back before its member key (an agent that woke up or restarted): without an address,
        // keep streaming from where we are rather than dropping primary_conninfo (fault suite: "re-pointed to :0").
        if (!upstream.HasUpstream) return;
        if (await pg.WriteConfigurationAsync(upstream, state.Dynamic, ct))
        {
            // PostgreSQL 13+ applies a changed primary_conninfo on reload (the WAL receiver restarts): no restart.
            await (Reload ?? pg.ReloadAsync)(ct);
            state.NotStreamingSince = null;
            HaLog.Repointed(log, $"{upstream.Host}:{upstream.Port}");
        }
    }

    private async Task DemoteAsync(StopMode mode, RecoveryTarget target, CancellationToken ct, TimeSpan? stopTimeout = null)
    {
        SetActionState("stopping", "demoted");
        state.ForgetLock();
        board.Publish(state.ToNodeStatus(config, board.Current) with { LastLeaderRenewal = null });
        await pg.StopAsync(mode, stopTimeout ?? StopTimeout, ct);
        safety.Watchdog.Disarm("demoted");
        state.MarkStopped();
        ReleaseActionState("stopped", "demoted");
        await StartAsync(target, ct);
    }

    /// <summary>
    /// Patroni's graceful demote for a switchover: CHECKPOINT (so the shutdown checkpoint is quick), fast stop,
    /// wait until the candidate has received the shutdown checkpoint, then release the lock (status.optime first)
    /// and come back as a standby of the candidate.
    /// </summary>
    private async Task SwitchoverAsync(HaInput input, string candidate, CancellationToken ct)
    {
        var view = input.View!;
        if (view.Failover?.ScheduledAt is { } at && at > time.GetUtcNow())
            await Task.Delay(at - time.GetUtcNow(), time, ct);
        var started = time.GetTimestamp();
        FailoverLog.SwitchoverStarting(log, candidate);
        try { await pg.CheckpointAsync(ct); }
        catch (Exception e) when (e is not OperationCanceledException) { FailoverLog.CheckpointFailed(log, e.Message); }

        SetActionState("stopping", "demoted");
        state.ForgetLock();
        board.Publish(state.ToNodeStatus(config, board.Current));
        try { await dcs.TouchMemberAsync(MemberKeyBuilder.Build(config, "stopping", "demoted", null, false, false), ct); }
        catch (DcsException) { }
        await pg.StopAsync(StopMode.Fast, StopTimeout, ct);
        state.MarkStopped();
        safety.Watchdog.Disarm("switchover");
        ReleaseActionState("stopped", "demoted");

        var checkpoint = pg.InspectDataDirectory().CheckpointLsn;
        var target = view.FindMember(candidate)?.Data.ParseConnUrl() ?? (null, 0);
        if (checkpoint is { } lsn && target.Item1 is { } host)
        {
            var waited = time.GetTimestamp();
            long? received = null;
            while (time.GetElapsedTime(waited) < HandoverWait)
            {
                received = await pg.RemoteReceivedLsnAsync(host, target.Item2, ct);
                if (received > lsn) break;
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct);
            }
            if (received > lsn) FailoverLog.CheckpointReceived(log, candidate, Lsn.Format(lsn), time.GetElapsedTime(waited).TotalMilliseconds);
            else FailoverLog.CheckpointNotReceived(log, candidate, Lsn.Format(lsn), received is { } r ? Lsn.Format(r) : "unknown");
        }
        await ReleaseLockAsync(checkpoint, ct);
        FailoverLog.SwitchoverHandedOver(log, candidate, time.GetElapsedTime(started).TotalMilliseconds);
        await StartAsync(UpstreamOf(view, candidate), ct);
    }

    /// <summary>A hung postmaster: kill it and every backend (existing connections could still commit), then release the lock.</summary>
    private async Task ReleaseHungPrimaryAsync(CancellationToken ct)
    {
        SetActionState("stopping", "demoted");
        state.ForgetLock();
        board.Publish(state.ToNodeStatus(config, board.Current));
        await pg.StopAsync(StopMode.Immediate, FencingStopBudget, ct);
        state.MarkStopped();
        ReleaseActionState("stopped", "demoted");
        if (!pg.IsPostmasterAlive()) safety.Watchdog.Disarm("hung primary killed");
        if (pg.IsPostmasterAlive())
        {
            // Still alive after SIGKILL: keep the lock rather than let a second primary appear; the lease decides.
            FailoverLog.HungPrimaryNotKilled(log);
            return;
        }
        await ReleaseLockAsync(null, ct);
    }

    private async Task ReleaseLockAsync(long? checkpoint, CancellationToken ct)
    {
        state.ForgetLock();
        try
        {
            if (await dcs.DeleteLeaderAsync(checkpoint, ct)) HaLog.LeaderReleased(log);
        }
        catch (DcsException e)
        {
            HaLog.LeaderReleaseFailed(log, e.Message);
        }
    }


    /// <summary>
    /// The fence: the loop could not renew in time. Stop accepting writes now (immediate stop, SIGKILL fallback);
    /// the next cycle restarts PostgreSQL read-only unless a renewal succeeds first.
    /// </summary>
    public async Task FenceAsync(CancellationToken ct)
    {
        state.ForgetLock();
        board.Publish(state.ToNodeStatus(config, board.Current) with { LastLeaderRenewal = null });
        await pg.StopAsync(StopMode.Immediate, FencingStopBudget, ct);
        state.MarkStopped();
        safety.Watchdog.Disarm("fenced");
    }

    /// <summary>SIGTERM: stop PostgreSQL cleanly, then (as leader) release the lock so replicas race at once.</summary>
    public async Task ShutdownAsync()
    {
        var wasLeader = state.View?.Leader?.Name == config.Name;
        var paused = state.View?.Config?.Value.Pause ?? false;
        if (paused) return; // Patroni leaves both PostgreSQL and the lock alone in maintenance mode.
        HaLog.ShuttingDown(log, wasLeader ? " (leader)" : "");
        using var cts = new CancellationTokenSource(StopTimeout + TimeSpan.FromSeconds(10));
        try
        {
            await pg.StopAsync(StopMode.Fast, StopTimeout, cts.Token);
            state.MarkStopped();
            safety.Watchdog.Disarm("shutdown");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.CycleFailed(log, e.Message, e);
        }
        if (!wasLeader) return;
        try
        {
            var checkpoint = pg.InspectDataDirectory().CheckpointLsn;
            if (await dcs.DeleteLeaderAsync(checkpoint, cts.Token)) HaLog.LeaderReleased(log);
        }
        catch (Exception e) when (e is DcsException or OperationCanceledException)
        {
            HaLog.LeaderReleaseFailed(log, e.Message);
        }
    }

    private void SetActionState(string pgState, string role)
    {
        state.ActionOwnsState = true;
        state.PgState = pgState;
        state.Role = role;
    }

    private void ReleaseActionState(string pgState, string role)
    {
        state.PgState = pgState;
        state.Role = role;
        state.ActionOwnsState = false;
    }
}
