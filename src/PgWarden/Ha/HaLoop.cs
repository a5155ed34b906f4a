using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha.Operations;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// The agent's heartbeat: gather (DCS view, data directory, local PostgreSQL, peers when a race is possible),
/// decide (<see cref="HaDecider"/>), act (<see cref="HaExecutor"/>), publish (member key, REST snapshot), then
/// sleep loop_wait — waking at once on a DCS watch event, a REST action or a postmaster exit.
/// </summary>
public sealed class HaLoop
{
    private AgentConfig _config;
    private readonly IDcs _dcs;
    private readonly IPostgresInstance _pg;
    private readonly PeerProber _peers;
    private readonly NodeStatusBoard _board;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly DcsValueProblemLog _badValues;
    private readonly HaExecutor _executor;
    private readonly NodeOperations _operations;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly StreamedTimeline _streamedTimeline = new();

    private readonly PostmasterHealth? _health;
    private int _fencing;

    private readonly SafetyServices _safety;

    public HaLoop(AgentConfig config, IDcs dcs, IPostgresInstance pg, PeerProber peers, NodeStatusBoard board,
        TimeProvider time, ILogger<HaLoop> log, DynamicConfig initialDynamic, PostmasterHealth? health = null,
        SafetyServices? safety = null)
    {
        _safety = safety ?? new SafetyServices(new Watchdog(config.Watchdog with { Mode = "off" }, log),
            new FailsafeState(time), new FailsafeClient(new HttpClient(), null));
        _health = health;
        _config = config;
        _dcs = dcs;
        _pg = pg;
        _peers = peers;
        _board = board;
        _time = time;
        _log = log;
        _badValues = new DcsValueProblemLog(log);
        State = new HaRuntimeState { Dynamic = initialDynamic };
        // A promotion in the middle of a cycle must not wait for the cycle's end to be fenced.
        State.FenceInputsChanged += NudgeFence;
        _executor = new HaExecutor(config, dcs, pg, board, time, log, State, _safety);
        Callbacks = new CallbackRunner(config.Postgresql.Callbacks, config.Scope, log, CallbackRunner.DefaultTimeLimit);
        _operations = new NodeOperations(config, dcs, pg, board, time, log, State, Operations, Callbacks);
        _executor.Reload = _operations.ReloadAsync;
        Operations.Queued += Wake;
        _board.WakeRequested += Wake;
    }

    internal HaRuntimeState State { get; }

    /// <summary>Restarts, reinitializations and reloads requested through the REST API.</summary>
    public OperationQueue Operations { get; } = new();

    internal CallbackRunner Callbacks { get; private set; }

    /// <summary>
    /// Re-reads the node's YAML file (set by the composition root when the agent was started from one). Called at the
    /// start of the cycle after POST /reload, `pgwarden reload` or SIGHUP, as Patroni's reload_config.
    /// </summary>
    public Func<AgentConfig>? LocalConfigSource { get; set; }

    public void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { /* a wake-up is already pending */ }
    }

    /// <summary>Runs until cancelled (SIGTERM) or a fatal condition; returns the process exit code.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        using var fenceStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var fence = RunFenceAsync(fenceStop.Token);
        try
        {
            return await RunLoopAsync(ct);
        }
        finally
        {
            await fenceStop.CancelAsync();
            try { await fence; } catch (OperationCanceledException) { }
        }
    }

    /// <summary>
    /// The leader's deadline, kept apart from the cycle: if we run as the writable leader and our last successful
    /// renewal (monotonic clock) is older than the fencing deadline, stop PostgreSQL at once. A cycle that is late
    /// (slow disk, a DCS call using its whole retry_timeout) first gets a fast-path renewal here. The task sleeps
    /// until the next moment it could have to act (polling every 100 ms only once a renewal is overdue), so an idle
    /// agent does not wake ten times a second for nothing.
    /// </summary>
    private async Task RunFenceAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Not the leader: nothing to fence until the role or the last renewal changes (either nudges the task,
            // and so does the end of every cycle). The leader keeps a timer (at most a second, so a lock lost in the
            // store between cycles is seen).
            using (var nap = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                var nudged = Volatile.Read(ref _fenceNudge).Task;
                var next = NextFenceCheck();
                await (next == Timeout.InfiniteTimeSpan ? nudged.WaitAsync(ct) : Task.WhenAny(Task.Delay(next, _time, nap.Token), nudged));
                await nap.CancelAsync();
            }
            ct.ThrowIfCancellationRequested();
            if (State.RenewedAtTimestamp is not { } renewedAt || State.Role != "master") continue;
            var elapsed = _time.GetElapsedTime(renewedAt);
            var deadline = FenceDeadline(State.Dynamic, _dcs.LockLifetime);
            var lost = _dcs.LockLostReason;
            if (elapsed >= deadline || lost is not null)
            {
                if (Interlocked.Exchange(ref _fencing, 1) == 1) continue;
                try
                {
                    if (lost is not null) ReloadLog.FencingLockLost(_log, lost);
                    else FailoverLog.Fencing(_log, elapsed.TotalSeconds, deadline.TotalSeconds);
                    await _executor.FenceAsync(ct);
                    Wake();
                }
                catch (Exception e) when (e is not OperationCanceledException) { HaLog.CycleFailed(_log, e.Message, e); }
                finally { Volatile.Write(ref _fencing, 0); }
            }
            else if (elapsed >= FastPathAfter(State.Dynamic, _dcs.LockLifetime) && Volatile.Read(ref _fencing) == 0)
            {
                await FastPathRenewAsync(renewedAt, deadline - elapsed, ct);
            }
        }
    }

    private static readonly TimeSpan FencePoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FenceIdle = TimeSpan.FromSeconds(1);
    private TaskCompletionSource _fenceNudge = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Makes the fence task re-read the role and the last renewal (after every cycle).</summary>
    private void NudgeFence() =>
        Interlocked.Exchange(ref _fenceNudge, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// A renewal this late gets a fast-path attempt from the fence task: loop_wait + 1.5 s, but with a short ttl (the
    /// fast profile, ttl 4 / loop_wait 1 / retry_timeout 1, fences 1.5 s after a renewal) that would come after the
    /// fence, so there it is half a second before the fence and at least a quarter second after the cycle was due —
    /// but always a quarter second before the fence: ttl 4 / loop_wait 2 / retry_timeout 1 is a valid configuration
    /// whose fence (1.5 s) comes before the next cycle (2 s); there the fence task keeps the lock renewed.
    /// </summary>
    internal static TimeSpan FastPathAfter(DynamicConfig d, TimeSpan? storeLockLifetime = null)
    {
        var usual = d.LoopWait + 1.5;
        var fence = FenceDeadline(d, storeLockLifetime).TotalSeconds;
        var beforeFence = Math.Min(Math.Max(d.LoopWait + 0.25, fence - 0.5), fence - 0.25);
        return TimeSpan.FromSeconds(Math.Max(0.25, Math.Min(usual, beforeFence)));
    }

    /// <summary>
    /// How long the fence may sleep: until the renewal would be overdue or the deadline comes (then every 100 ms), at
    /// most a second (a changed ttl or a lock lost in the store is seen within that); not at all when we are not the
    /// leader (the cycle that makes us leader nudges the fence).
    /// </summary>
    private TimeSpan NextFenceCheck()
    {
        if (_dcs.LockLostReason is not null) return FencePoll;
        if (State.RenewedAtTimestamp is not { } renewedAt || State.Role != "master") return Timeout.InfiniteTimeSpan;
        // With a short ttl the fencing deadline can come before the fast-path threshold: wake for the earlier one.
        var deadline = FenceDeadline(State.Dynamic, _dcs.LockLifetime);
        var fastPath = FastPathAfter(State.Dynamic, _dcs.LockLifetime);
        var untilNext = (deadline < fastPath ? deadline : fastPath) - _time.GetElapsedTime(renewedAt);
        return untilNext <= FencePoll ? FencePoll : untilNext < FenceIdle ? untilNext : FenceIdle;
    }

    private async Task FastPathRenewAsync(long renewedAt, TimeSpan remaining, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _fencing, 1) == 1) return;
        try
        {
            // failsafe_mode: leave half of the time before the deadline for asking the members instead.
            var failsafe = State.Dynamic.FailsafeMode;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(failsafe ? remaining / 2 : remaining);
            var started = _time.GetTimestamp();
            var leader = State.View?.Leader;
            if (leader?.Name != _config.Name) return;
            string? failure = null;
            try
            {
                if (await _dcs.UpdateLeaderAsync(leader, cts.Token) && State.RenewedAtTimestamp == renewedAt)
                {
                    State.RenewedAtTimestamp = started;
                    State.LastLeaderRenewal = _time.GetUtcNow();
                }
            }
            catch (DcsException e) { failure = e.Kind.ToString(); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { failure = DcsErrorKind.Timeout.ToString(); }
            // Every member confirming us counts like a renewal for the fence.
            if (failure is not null && failsafe && State.RenewedAtTimestamp == renewedAt)
                await _executor.ConfirmFailsafeAsync(failure, ct);
        }
        catch (Exception e) when (e is DcsException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            // The fence decides at the deadline; the cycle logs the DCS state.
        }
        finally { Volatile.Write(ref _fencing, 0); }
    }

    /// <summary>
    /// The lock's lifetime (ttl, or the store's own when shorter: ZooKeeper's negotiated session timeout) minus the
    /// stop budget and half a second, counted from the start of the last successful renewal: PostgreSQL is stopped
    /// before the lock can expire.
    /// </summary>
    internal static TimeSpan FenceDeadline(DynamicConfig d, TimeSpan? storeLockLifetime = null)
    {
        var lifetime = TimeSpan.FromSeconds(d.Ttl);
        if (storeLockLifetime is { } l && l > TimeSpan.Zero && l < lifetime) lifetime = l;
        return lifetime - TimeSpan.FromSeconds(Math.Max(2, Math.Min(d.RetryTimeout, 5)) + 0.5);
    }

    private async Task<int> RunLoopAsync(CancellationToken ct)
    {
        var exitCode = 0;
        while (!ct.IsCancellationRequested)
        {
            var cycleStart = _time.GetTimestamp();
            try
            {
                var fatal = await RunCycleAsync(ct);
                if (fatal is not null) { exitCode = fatal.Value; break; }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                HaLog.CycleFailed(_log, e.Message, e);
            }
            finally
            {
                NudgeFence();
            }

            var loopWait = TimeSpan.FromSeconds(State.Dynamic.LoopWait);
            if (State.RecheckAfter is { } soon && soon < loopWait) loopWait = soon;
            var remaining = loopWait - _time.GetElapsedTime(cycleStart);
            _board.Publish(_board.Current with { NextCycleDue = _time.GetUtcNow() + (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) });
            if (remaining > TimeSpan.Zero)
            {
                try { await WaitForWakeAsync(remaining, ct); }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            }
        }

        if (exitCode == 0)
        {
            await _executor.ShutdownAsync();
            _operations.OnShutdown();
        }
        await _operations.DisposeAsync();
        return exitCode;
    }

    private async Task WaitForWakeAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = _dcs.WaitForChangeAsync(timeout, cts.Token);
        var wake = _wake.WaitAsync(timeout, cts.Token);
        await Task.WhenAny(watch, wake);
        await cts.CancelAsync();
        ct.ThrowIfCancellationRequested();
        try { await Task.WhenAll(watch, wake); }
        catch (OperationCanceledException) { /* the other waiter, cancelled on purpose */ }
        catch (DcsException) { /* the watch failed: the next cycle will report the DCS state */ }
    }

    /// <summary>One cycle; returns an exit code when the agent must stop (fatal), else null.</summary>
    internal async Task<int?> RunCycleAsync(CancellationToken ct)
    {
        State.RecheckAfter = null;
        if (Operations.TakeLocalConfigReread()) RereadLocalConfig();
        var input = await GatherAsync(ct);
        var decision = HaDecider.Decide(input);
        var paused = input.View?.Config?.Value.Pause ?? false;
        HaLog.CycleResult(_log, paused && !decision.Reason.StartsWith("PAUSE", StringComparison.Ordinal) ? "PAUSE: " + decision.Reason : decision.Reason);
        State.LastDecision = decision.Reason;
        State.RecheckAfter = decision.RecheckAfter;
        if (decision.Action == HaAction.RenewAndClearFailover)
        {
            // Published before the key is cleared, so whoever sees the key vanish (POST /switchover polling on this
            // node) can already say why.
            FailoverLog.RequestDropped(_log, decision.Reason);
            _board.Publish(_board.Current with { LastFailoverDrop = new FailoverDrop(decision.Reason, _time.GetUtcNow()) });
        }

        var fatal = await _executor.ExecuteAsync(decision, input, ct);
        // The watchdog guards a running primary only: never in pause, never once we are not (or no longer) the leader.
        if (_safety.Watchdog.IsActive && (paused || State.Role != "master" || State.RenewedAtTimestamp is null))
            _safety.Watchdog.Disarm(paused ? "pause" : "not the leading primary");
        if (fatal is null) await _operations.AfterActionAsync(decision, input, ct);
        await PublishAsync(input.View is not null, ct);
        return fatal;
    }

    /// <summary>
    /// Applies what a reload may change (LocalConfigReload) to every component that holds the configuration; the
    /// operations step of this same cycle then rewrites postgresql.conf/pg_hba.conf and reloads PostgreSQL.
    /// </summary>
    private void RereadLocalConfig()
    {
        if (LocalConfigSource is not { } source) return;
        var path = _config.SourcePath ?? "(environment)";
        AgentConfig fresh;
        try
        {
            fresh = source();
            var problems = ConfigValidator.Validate(fresh);
            if (problems.Count > 0) throw new ConfigException(path, string.Join("; ", problems));
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            ReloadLog.LocalConfigRereadFailed(_log, path, e.Message);
            return;
        }
        var result = LocalConfigReload.Merge(_config, fresh);
        if (result.NeedRestart.Count > 0) ReloadLog.NeedsAgentRestart(_log, path, string.Join(", ", result.NeedRestart));
        ReloadLog.LocalConfigReread(_log, path, result.Changed.Count == 0 ? "nothing" : string.Join(", ", result.Changed));
        if (result.Changed.Count == 0) return;
        _config = result.Applied;
        _executor.UseLocalConfig(_config);
        _operations.UseLocalConfig(_config);
        _pg.UseLocalConfig(_config);
        if (result.Changed.Contains("postgresql.callbacks"))
        {
            var old = Callbacks;
            Callbacks = new CallbackRunner(_config.Postgresql.Callbacks, _config.Scope, _log, CallbackRunner.DefaultTimeLimit);
            _operations.UseCallbacks(Callbacks);
            old.Dispose();
        }
    }

    private async Task<HaInput> GatherAsync(CancellationToken ct)
    {
        ClusterView? view = null;
        try
        {
            view = _operations.ObserveConfig(await _dcs.GetClusterAsync(ct));
            State.DcsLastSeen = _time.GetUtcNow();
            _badValues.Report(view);
            if (view.Config is { } cfg && cfg.Value != State.Dynamic)
            {
                State.Dynamic = cfg.Value;
                _dcs.Configure(cfg.Value.Ttl, cfg.Value.LoopWait, cfg.Value.RetryTimeout);
            }
        }
        catch (DcsException e)
        {
            HaLog.DcsUnreachable(_log, e.Kind.ToString(), e.Message);
            State.LastDcsError = e.Kind;
        }
        State.View = view;
        if (view is not null)
        {
            State.FailsafeTopology = view.Failsafe;
            State.SelfMember = view.FindMember(_config.Name)?.Data ?? State.SelfMember;
        }

        var alive = _pg.IsPostmasterAlive();
        var probe = alive && await _pg.ProbeAsync(ct) is { } p ? _streamedTimeline.Apply(p) : null;
        // Not kept while the server runs: a replica's pg_control changes when it replays the primary's parameter change
        // (a lowered max_connections), and a stale copy made the agent want the old value back. InspectDataDirectory
        // spawns pg_controldata only when global/pg_control changed.
        var data = _pg.InspectDataDirectory();
        if (data.HasData) State.SystemIdentifier = data.SystemIdentifier;
        State.Probe = probe;
        State.ObservePostgres(alive, probe, data.HasData);

        var now = _time.GetTimestamp();
        var healthy = _health?.IsHealthy ?? true;
        State.UnhealthySince = alive && !healthy && State.PgState == "running" ? State.UnhealthySince ?? now : null;
        var iHoldLock = view?.Leader?.Name == _config.Name;
        State.PrimaryDownSince = !alive && iHoldLock ? State.PrimaryDownSince ?? now : null;
        State.NotStreamingSince = probe is { InRecovery: true } && probe.ReplicationState != "streaming" ? State.NotStreamingSince ?? now : null;

        if (view?.LeaderMember is { } lm && lm.Name != _config.Name && lm.Data.ParseConnUrl() is { Host: { } lh } lc)
            State.LastOtherLeader = (lm.Name, lh, lc.Port);
        else if (iHoldLock) State.LastOtherLeader = null;
        FailsafeOutcome? failsafe = null;
        if (view is null && probe is { InRecovery: false } && State.Dynamic.FailsafeMode)
            failsafe = await _executor.ConfirmFailsafeAsync(State.LastDcsError?.ToString() ?? "unknown", ct);

        // Since when this request (revision) is pending: a DCS read that failed this cycle forgets nothing.
        var failoverKey = view?.Failover is { IsEmpty: false } pendingKey ? pendingKey : null;
        if (failoverKey is not null)
        {
            if (State.FailoverSeen?.Revision != failoverKey.ModRevision) State.FailoverSeen = (failoverKey.ModRevision, now);
        }
        else if (view is not null) State.FailoverSeen = null;

        IReadOnlyList<PeerStatus> peers = [];
        string? formerLeaderStillPrimary = null;
        var pendingFailover = view?.Failover is { IsEmpty: false };
        var race = view is { Leader: null } && probe is { InRecovery: true } && !_config.Tags.NoFailover && (!State.Dynamic.Pause || pendingFailover);
        var switchover = iHoldLock && pendingFailover && probe is { InRecovery: false };
        if (race || switchover)
        {
            var deadline = TimeSpan.FromSeconds(Math.Min(2, Math.Max(1, State.Dynamic.RetryTimeout / 2.0)));
            var peersTask = _peers.ProbeAsync(view!.Members.Where(m => m.Name != _config.Name), deadline, ct);
            // The former leader's agent may be frozen or dead (no REST answer, member key expired) while its PostgreSQL
            // still accepts writes: ask the server itself, in parallel with the peers.
            var former = race && !pendingFailover ? State.LastOtherLeader : null;
            var formerTask = former is { } f ? _pg.RemoteIsPrimaryAsync(f.Host, f.Port, deadline, ct) : Task.FromResult<bool?>(null);
            peers = await peersTask;
            if (await formerTask == true)
            {
                formerLeaderStillPrimary = former!.Value.Name;
                FaultSafetyLog.FormerLeaderStillPrimary(_log, former.Value.Name, former.Value.Host, former.Value.Port);
            }
        }

        return new HaInput
        {
            Name = _config.Name,
            Tags = _config.Tags,
            CanBootstrap = _config.Bootstrap is not null,
            View = view,
            Dynamic = State.Dynamic,
            DataDir = data,
            PostmasterAlive = alive,
            Probe = probe,
            Peers = peers,
            FormerLeaderStillPrimary = formerLeaderStillPrimary,
            Now = _time.GetUtcNow(),
            LastLeaderRenewal = State.LastLeaderRenewal,
            SinceLastRenewal = Since(State.RenewedAtTimestamp),
            PostgresUnhealthyFor = Since(State.UnhealthySince),
            PrimaryDownFor = Since(State.PrimaryDownSince),
            NotStreamingFor = Since(State.NotStreamingSince),
            FailoverPendingFor = Since(State.FailoverSeen?.SeenAt),
            Rejoin = new RejoinPolicy(_config.Postgresql.UsePgRewind ?? State.Dynamic.UsePgRewind,
                _config.Postgresql.RemoveDataDirectoryOnRewindFailure, _config.Postgresql.RemoveDataDirectoryOnDivergedTimelines),
            RewindFailure = State.RewindFailureLeader == HaExecutor.RewindSourceKey(view) ? State.RewindFailure : null,
            Failsafe = failsafe,
            FailsafeLeader = State.Dynamic.FailsafeMode ? _safety.Failsafe.ActiveLeader() : null,
            WatchdogUnusable = _safety.Watchdog.RequiredButUnusable(State.Dynamic),
        };
    }

    private TimeSpan? Since(long? timestamp) => timestamp is { } t ? _time.GetElapsedTime(t) : null;

    private async Task PublishAsync(bool dcsReachable, CancellationToken ct)
    {
        var paused = State.View?.Config?.Value.Pause ?? false;
        var pending = _operations.Pending.Count > 0 || (State.Probe?.PendingRestart ?? false);
        if (dcsReachable)
        {
            var member = MemberKeyBuilder.Build(_config, State.PgState, State.Role, State.Probe, paused, pending) with
            {
                PendingRestartReason = PendingRestartCheck.ToJson(_operations.Pending),
                ScheduledRestart = this.Operations.ScheduledRestart,
            };
            try { await _dcs.TouchMemberAsync(member, ct); }
            catch (DcsException e) { HaLog.DcsUnreachable(_log, e.Kind.ToString(), e.Message); }
        }
        _board.Publish(State.ToNodeStatus(_config, _board.Current) with
        {
            WatchdogFailed = _safety.Watchdog.RequiredButUnusable(State.Dynamic) is not null,
            FailsafeActive = State.Dynamic.FailsafeMode && _safety.Failsafe.IsActive,
            PendingRestart = pending,
            PendingRestartParameters = _operations.Pending,
            ScheduledRestart = this.Operations.ScheduledRestart,
        });
    }
}
