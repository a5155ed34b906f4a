using PgWarden.Dcs;
using PgWarden.Ha.Safety;

namespace PgWarden.Ha;

/// <summary>
/// The HA decision: a pure function of the gathered input. The rules follow Patroni's HA cycle
/// (compat §5.2-5.5), in the same order, so an operator who knows Patroni's log lines recognises ours.
/// </summary>
public static class HaDecider
{
    public static Decision Decide(HaInput input)
    {
        var view = input.View;
        var me = input.Name;

        if (view is null) return DecideWithoutDcs(input);

        var leader = view.Leader?.Name;
        var iHoldLock = leader == me;
        var paused = view.Config?.Value.Pause ?? input.Dynamic.Pause;

        if (!input.DataDir.HasData) return DecideEmptyDataDir(input, view);

        // Only a real system identifier (digits, Patroni's sysid_valid) can prove a foreign data directory; garbage
        // written into the initialize key must never make a healthy node exit.
        if (IsValidSysid(view.Initialize) && input.DataDir.SystemIdentifier is { } sysid
            && sysid != view.Initialize && !paused)
        {
            return new Decision(HaAction.FatalSystemIdMismatch,
                $"system ID mismatch: node {me} has system identifier {sysid} in its data directory but the cluster's is " +
                $"{view.Initialize}; refusing to touch this data directory");
        }

        if (view.Initialize is null && leader is null && !input.DataDir.IsStandbyConfigured && !paused)
        {
            return new Decision(HaAction.ClaimInitialize,
                $"no initialize key and no leader: publishing this node's system identifier {input.DataDir.SystemIdentifier}");
        }

        if (!input.PostmasterAlive) return DecideStopped(input, view, iHoldLock, paused);

        if (iHoldLock && !paused && input.PostgresUnhealthyFor is { } unhealthy && unhealthy >= HungPrimaryGrace(input.Dynamic))
        {
            return new Decision(HaAction.ReleaseHungPrimary,
                $"postgres has not accepted new connections for {unhealthy.TotalSeconds:0.#} s (hung postmaster): " +
                "killing it and releasing the leader lock");
        }

        var probe = input.Probe;
        if (probe is null)
        {
            // Running but not answering: starting up, or hung. A lock holder keeps renewing only while the
            // local probe may still recover; the self-fencing rules of the failover work tighten this.
            return iHoldLock
                ? new Decision(HaAction.RenewLock, $"no action. I am ({me}), the leader with the lock; postgres is not answering yet")
                : new Decision(HaAction.Nothing, "postgres is starting or not answering; waiting");
        }

        if (!probe.InRecovery)
        {
            if (iHoldLock && !paused && input.WatchdogUnusable is { } noWatchdog)
            {
                return new Decision(HaAction.DemoteAndReleaseLock,
                    $"demoting self and releasing the leader lock: a primary may not run without its required watchdog ({noWatchdog})");
            }
            if (iHoldLock)
            {
                return view.Failover is { IsEmpty: false } request
                    ? DecideFailoverRequestAsLeader(input, view, request, probe, paused)
                    : new Decision(HaAction.RenewLock, $"no action. I am ({me}), the leader with the lock");
            }
            if (leader is not null)
            {
                return paused
                    ? new Decision(HaAction.Nothing, $"PAUSE: continue to run as primary without lock; {leader} holds it")
                    : new Decision(HaAction.DemoteToReplica, "demoting self because I do not have the lock and I was a leader", leader);
            }
            if (IsBehindClusterTimeline(probe.Timeline, view))
            {
                return new Decision(HaAction.DemoteToReplica,
                    $"demoting self: running as primary on timeline {probe.Timeline} behind the cluster's {view.ClusterTimeline}");
            }
            return new Decision(HaAction.AcquireLock, "acquired session lock as a leader");
        }

        // Running as a standby.
        if (iHoldLock)
        {
            return input.WatchdogUnusable is { } noWatchdog && !paused
                ? new Decision(HaAction.ReleaseLock, $"not promoting because the required watchdog cannot be used ({noWatchdog}): releasing the leader lock")
                : new Decision(HaAction.Promote, "promoted self to leader because I had the session lock");
        }

        if (leader is not null)
        {
            if (!paused && StuckOnOldTimeline(input, view, probe) is { } stuck) return stuck;
            var upstream = UpstreamFor(input, view, leader);
            return new Decision(HaAction.Follow, $"no action. I am ({me}), a secondary, and following a leader ({leader})", upstream);
        }

        if (input.Tags.NoFailover)
            return new Decision(HaAction.Follow, "following no leader because I am tagged nofailover", null);
        if (view.Failover is { IsEmpty: false } manual) return DecideManualFailoverWithoutLeader(input, view, manual, probe, paused);
        if (paused) return new Decision(HaAction.Nothing, "PAUSE: no leader, no automatic failover while paused");
        if (RaceBlocker(input, view) is { } blocked) return blocked;

        // Its agent is frozen (SIGSTOP, a long GC pause, a stuck disk) or was killed, so its lease expired, but its
        // PostgreSQL still accepts writes: promoting now would make two writable primaries. Its agent fences it
        // when it wakes up (or a restarted agent takes the free lock back); then we race.
        if (input.FormerLeaderStillPrimary is { } former)
        {
            return new Decision(HaAction.Follow,
                $"following no leader: the former leader {former} still runs as a primary (its agent stopped renewing the lock); not racing while it accepts writes", null);
        }

        var (healthy, why) = IsHealthiest(input, probe.WalPosition, view);
        return healthy
            ? new Decision(HaAction.AcquireLock, "promoted self to leader by acquiring session lock")
            : new Decision(HaAction.Follow, $"following no leader: {why}", null);
    }

    private static Decision DecideWithoutDcs(HaInput input)
    {
        if (input.PostmasterAlive && input.Probe is { InRecovery: false })
        {
            if (input.Dynamic.FailsafeMode && input.Failsafe is { } failsafe)
            {
                return failsafe.AllAccepted
                    ? new Decision(HaAction.FailsafeHold,
                        $"continue to run as a leader because failsafe mode is enabled and all members are accessible ({failsafe.Detail})")
                    : new Decision(HaAction.DemoteOffline,
                        $"demoting self because DCS is not accessible and I was a leader; failsafe mode could not confirm me: {failsafe.Detail}");
            }
            return new Decision(HaAction.DemoteOffline,
                "demoting self because DCS is not accessible and I was a leader");
        }
        return new Decision(HaAction.WaitForDcs, "DCS is not accessible; PostgreSQL is left as it is and no lock is taken");
    }

    private static Decision DecideEmptyDataDir(HaInput input, ClusterView view)
    {
        var me = input.Name;
        if (view.Initialize is null && view.Leader is null)
        {
            if (!input.CanBootstrap)
                return new Decision(HaAction.Nothing, "waiting for leader to bootstrap (no bootstrap section in the configuration)");
            if (input.WatchdogUnusable is { } noWatchdog)
                return new Decision(HaAction.Nothing, $"not bootstrapping: the required watchdog cannot be used ({noWatchdog})");
            if (input.Tags.NoFailover)
                return new Decision(HaAction.Nothing, "waiting for leader to bootstrap (tagged nofailover)");
            return new Decision(HaAction.RaceForBootstrap, "trying to bootstrap a new cluster");
        }

        var source = CloneSource(view, me);
        if (source is not null)
            return new Decision(HaAction.CloneFromMember, $"trying to bootstrap from {(source == view.Leader?.Name ? "leader" : "replica")} '{source}'", source);

        return view.Initialize == ""
            ? new Decision(HaAction.Nothing, "waiting for leader to bootstrap")
            : new Decision(HaAction.Nothing, "waiting for a running leader or clonefrom member to clone from");
    }

    private static Decision DecideStopped(HaInput input, ClusterView view, bool iHoldLock, bool paused)
    {
        var me = input.Name;
        var leader = view.Leader?.Name;
        if (paused)
            return new Decision(HaAction.Nothing, "PAUSE: postgres is not running and will not be started while paused");

        if (iHoldLock)
        {
            var wasPrimary = WasPrimary(input.DataDir);
            var limit = input.Dynamic.PrimaryStartTimeout;
            if (wasPrimary && input.PrimaryDownFor is { } down && down >= TimeSpan.FromSeconds(limit))
            {
                return new Decision(HaAction.ReleaseLock, limit == 0
                    ? "postgres is not running and primary_start_timeout is 0: releasing the leader lock to fail over"
                    : $"primary did not come back within primary_start_timeout {limit} s (down {down.TotalSeconds:0} s): releasing the leader lock");
            }
            return wasPrimary
                ? new Decision(HaAction.StartAsPrimary, $"starting primary {me} after failure: I hold the lock")
                : new Decision(HaAction.StartAsReplica, "starting as a secondary before promoting: I hold the lock", null);
        }

        if (leader is not null)
        {
            if (DivergedFromLeader(input, view) is { } diverged) return diverged;
            return new Decision(HaAction.StartAsReplica, $"starting as a secondary of leader {leader}", UpstreamFor(input, view, leader));
        }

        return new Decision(HaAction.StartAsReplica, "starting as a secondary: the cluster has no leader", null);
    }

    /// <summary>Patroni's clone source: a running clonefrom member other than us, else the running leader.</summary>
    internal static string? CloneSource(ClusterView view, string me)
    {
        var tagged = view.Members
            .Where(m => m.Name != me && m.Name != view.Leader?.Name && m.Data.State == "running"
                        && m.Data.ConnUrl is not null && m.Data.Tags?["clonefrom"] is { } t && Config.MemberTags.IsTruthy(t))
            .Select(m => m.Name)
            .OrderBy(n => n, StringComparer.Ordinal)
            .FirstOrDefault();
        if (tagged is not null) return tagged;
        var leader = view.LeaderMember;
        return leader is { Data.ConnUrl: not null } && leader.Data.State == "running" ? leader.Name : null;
    }

    /// <summary>The member we stream from: our replicatefrom member when it exists and runs, else the leader.</summary>
    private static string UpstreamFor(HaInput input, ClusterView view, string leader)
    {
        var from = input.Tags.ReplicateFrom;
        if (from is not null && from != input.Name && view.FindMember(from) is { Data.State: "running" })
            return from;
        return leader;
    }

    /// <summary>A hung postmaster under the lock is given this long before the lock is released.</summary>
    internal static TimeSpan HungPrimaryGrace(Config.DynamicConfig d) => TimeSpan.FromSeconds(Math.Max(d.LoopWait, d.Ttl / 2.0));

    /// <summary>How long a standby may be on an older timeline than the leader without streaming before we rewind.</summary>
    internal static TimeSpan NotStreamingGrace(Config.DynamicConfig d) => TimeSpan.FromSeconds(Math.Max(5, 2 * d.LoopWait));

    private static bool WasPrimary(Postgres.DataDirectoryInfo data) => !data.IsStandbyConfigured
        && data.ClusterState is "in production" or "shut down" or "in crash recovery" or "shutting down";

    private static int LeaderTimeline(ClusterView view) =>
        view.LeaderMember?.Data.Timeline is { } t and > 0 ? (int)t : view.ClusterTimeline;

    /// <summary>
    /// A former primary on an older timeline than the leader may hold WAL the leader never had. pg_rewind decides
    /// exactly (it says "no rewind required" when we did not go past the fork point); without it we may only wipe.
    /// </summary>
    private static Decision? DivergedFromLeader(HaInput input, ClusterView view)
    {
        var leader = view.Leader!.Name;
        var ours = input.DataDir.TimelineId ?? 0;
        var theirs = LeaderTimeline(view);
        if (ours == 0 || theirs <= ours) return null;
        if (WasPrimary(input.DataDir))
            return Repair(input, leader, $"this former primary is on timeline {ours} and the leader {leader} on {theirs}");
        // A standby on an older timeline normally follows the switch by itself. But one whose last checkpoint lies past
        // the point where its timeline ended (it was a primary that got demoted without a rewind, or replayed a former
        // primary's WAL) can never start: PostgreSQL says "requested timeline is not a child of this server's history"
        // (fault suite: a node stuck restarting every 2 s). The history key tells exactly.
        if (view.History?.LastOrDefault(h => h.Timeline == ours) is { } ended && input.DataDir.CheckpointLsn is { } checkpoint && checkpoint > ended.SwitchLsn)
            return Repair(input, leader, $"this standby's last checkpoint {Postgres.Lsn.Format(checkpoint)} on timeline {ours} is past the point {Postgres.Lsn.Format(ended.SwitchLsn)} where the leader's history left that timeline");
        return null;
    }

    private static Decision? StuckOnOldTimeline(HaInput input, ClusterView view, Postgres.PostgresProbe probe)
    {
        var theirs = LeaderTimeline(view);
        if (input.NotStreamingFor is not { } idle || idle < NotStreamingGrace(input.Dynamic)) return null;
        if (probe.Timeline == 0 || theirs <= probe.Timeline || !input.Rejoin.UsePgRewind) return null;
        // Without a WAL receiver the timeline we see is pg_control's, which lags until the next restartpoint. A standby
        // that never went past the point where its timeline ended (history key) has not diverged: PostgreSQL follows the
        // switch by itself once its WAL receiver reconnects; stopping it for pg_rewind only delays that (fault suite).
        if (view.History?.LastOrDefault(h => h.Timeline == probe.Timeline) is { } ended && probe.WalPosition <= ended.SwitchLsn)
            return null;
        return Repair(input, view.Leader!.Name,
            $"not streaming for {idle.TotalSeconds:0} s on timeline {probe.Timeline} while the leader is on {theirs}");
    }

    private static Decision Repair(HaInput input, string leader, string situation)
    {
        var policy = input.Rejoin;
        if (input.RewindFailure is { } failure)
        {
            return policy.RemoveOnRewindFailure || policy.RemoveOnDivergedTimelines
                ? new Decision(HaAction.Reinitialize, $"{situation}; pg_rewind failed ({failure}): removing the data directory and cloning again", leader)
                : new Decision(HaAction.StayStopped, $"{situation}; pg_rewind failed ({failure}) and remove_data_directory_on_rewind_failure is off: " +
                                                     "staying stopped, never streaming from a diverged point (fix it or run reinit)");
        }
        if (policy.UsePgRewind)
            return new Decision(HaAction.Rewind, $"{situation}: running pg_rewind from the leader before following it", leader);
        if (policy.RemoveOnDivergedTimelines)
            return new Decision(HaAction.Reinitialize, $"{situation}; use_pg_rewind is off: remove_data_directory_on_diverged_timelines says clone again", leader);
        // Patroni starts it anyway; PostgreSQL itself refuses to stream from a diverged point.
        return new Decision(HaAction.StartAsReplica, $"{situation}; use_pg_rewind is off: starting as a secondary, PostgreSQL refuses to stream if it diverged", leader);
    }

    /// <summary>Patroni's process_manual_failover_from_leader (compat §5.6), run after each successful renewal.</summary>
    private static Decision DecideFailoverRequestAsLeader(HaInput input, ClusterView view, FailoverRequest request,
        Postgres.PostgresProbe probe, bool paused)
    {
        var me = input.Name;
        if (request.ScheduledAt is { } at && !paused)
        {
            var loopWait = TimeSpan.FromSeconds(input.Dynamic.LoopWait);
            if (at - input.Now > loopWait)
                return new Decision(HaAction.RenewLock, $"no action. I am ({me}), the leader with the lock; awaiting scheduled switchover at {at:O}");
            if (input.Now - at > loopWait * 1.5)
                return new Decision(HaAction.RenewAndClearFailover, $"found a stale scheduled switchover (at {at:O}); clearing it");
        }
        if (request.Candidate == me)
            return new Decision(HaAction.RenewAndClearFailover, "manual failover: I am already the leader, no need to failover");
        if (!string.IsNullOrEmpty(request.Leader) && request.Leader != me)
            return new Decision(HaAction.RenewAndClearFailover, $"manual failover: leader name does not match: {request.Leader} != {me}");
        if (paused && request.Candidate is null)
            return new Decision(HaAction.RenewAndClearFailover, "Switchover is possible only to a specific candidate in a paused state");

        var verdicts = SwitchoverCandidates.Evaluate(view, me, request.Candidate, input.Peers, probe.WalPosition, input.Dynamic.MaximumLagOnFailover);
        if (SynchronousReplication.IsOn(input.Dynamic))
        {
            // A switchover in synchronous mode may only hand over to a member the /sync key names.
            verdicts = [.. verdicts.Select(v => (v.Eligible || v.Transient) && !SynchronousReplication.Matches(view.Sync, v.Name)
                ? v with { Eligible = false, Why = "not a synchronous standby (not in /sync)", Transient = false }
                : v)];
        }
        var best = SwitchoverCandidates.Best(verdicts);
        if (best is null)
        {
            // A probe that timed out on a loaded machine, or a WAL position reported up to one loop ago, says nothing
            // final about the candidate: keep the request and look again soon, for a bounded time from its creation
            // (Patroni drops it at once, but its API pre-checks; ours does too, so the leader's first look must agree).
            var patience = SwitchoverPatience(input.Dynamic);
            if (verdicts.Any(v => v.Transient) && FailoverRequestAge(input, request) is { } age && age < patience)
            {
                return new Decision(HaAction.RenewLock,
                    $"manual failover: no healthy member yet, looking again ({age.TotalSeconds:0.0} s of {patience.TotalSeconds:0} s); " +
                    SwitchoverCandidates.Explain(verdicts)) { RecheckAfter = SwitchoverRecheck(input.Dynamic) };
            }
            return new Decision(HaAction.RenewAndClearFailover,
                "manual failover: no healthy members found; " + SwitchoverCandidates.Explain(verdicts));
        }
        return new Decision(HaAction.GracefulSwitchover, $"manual switchover: demoting myself gracefully, handing over to {best}", best);
    }

    /// <summary>How long the leader keeps a request whose candidates failed only transient checks: loop_wait + retry_timeout.</summary>
    internal static TimeSpan SwitchoverPatience(Config.DynamicConfig d) => TimeSpan.FromSeconds(d.LoopWait + d.RetryTimeout);

    /// <summary>How soon such a request is looked at again: half a second (at most loop_wait).</summary>
    internal static TimeSpan SwitchoverRecheck(Config.DynamicConfig d) => TimeSpan.FromSeconds(Math.Min(0.5, Math.Max(0.1, d.LoopWait)));

    /// <summary>
    /// How long the request has been due: a scheduled one since its time, an immediate one since this agent first saw
    /// it; null (drop at once) when not known.
    /// </summary>
    private static TimeSpan? FailoverRequestAge(HaInput input, FailoverRequest request)
    {
        if (request.ScheduledAt is { } at) return input.Now > at ? input.Now - at : TimeSpan.Zero;
        return input.FailoverPendingFor;
    }

    /// <summary>Patroni's manual_failover_process_no_leader: who may race while a failover key is pending.</summary>
    private static Decision DecideManualFailoverWithoutLeader(HaInput input, ClusterView view, FailoverRequest request,
        Postgres.PostgresProbe probe, bool paused)
    {
        var me = input.Name;
        if (request.Candidate == me)
            return new Decision(HaAction.AcquireLock, "manual failover: I am the candidate; acquiring the session lock");
        if (paused)
            return new Decision(HaAction.Nothing, $"PAUSE: no leader; waiting for the manual failover candidate {request.Candidate ?? "(none)"}");
        var others = input.Peers.Where(p => p.Reachable && p.Name != me && !p.NoFailover && !p.IsPrimary).ToList();
        if (request.Candidate is not null && others.Any(p => p.Name == request.Candidate))
            return new Decision(HaAction.Follow, $"manual failover: waiting for the candidate {request.Candidate} to take the lock", null);
        if (request.Leader == me && others.Count > 0)
            return new Decision(HaAction.Follow, "manual failover: I was the leader; leaving the race to the other members", null);

        if (RaceBlocker(input, view) is { } blocked) return blocked;
        // The named candidate is gone: race as usual but without the lag check, ignoring the former leader.
        var race = input with { Peers = [.. input.Peers.Where(p => p.Name != request.Leader)] };
        var (healthy, why) = IsHealthiest(race, probe.WalPosition, view, checkLag: false);
        return healthy
            ? new Decision(HaAction.AcquireLock, "manual failover: the candidate is unavailable and I am the healthiest; acquiring the session lock")
            : new Decision(HaAction.Follow, $"following no leader: {why}", null);
    }

    /// <summary>
    /// Rules that keep a standby out of the leader race whatever its WAL position (compat §5.5): a primary confirmed
    /// itself over failsafe, failsafe topology, synchronous mode, a required watchdog.
    /// </summary>
    private static Decision? RaceBlocker(HaInput input, ClusterView view)
    {
        var me = input.Name;
        if (input.FailsafeLeader is { } confirmed)
            return new Decision(HaAction.Follow, $"failsafe mode is active: {confirmed} confirmed itself as the leader less than ttl ago; not racing", null);
        if (input.Dynamic.FailsafeMode && view.Failsafe is { Count: > 0 } topology && !topology.ContainsKey(me))
            return new Decision(HaAction.Follow, $"not healthy enough for leader race: {me} is not in the /failsafe topology", null);
        if (SynchronousReplication.IsOn(input.Dynamic) && SynchronousReplication.Restricts(view.Sync)
            && !SynchronousReplication.Matches(view.Sync, me))
        {
            return new Decision(HaAction.Follow,
                $"not promoting: {me} is not a synchronous standby (/sync: leader {view.Sync!.Leader}, sync_standby " +
                $"{(view.Sync.SyncStandbys.Count == 0 ? "none" : string.Join(",", view.Sync.SyncStandbys))})", null);
        }
        if (input.WatchdogUnusable is { } noWatchdog)
            return new Decision(HaAction.Follow, $"not healthy enough for leader race: the required watchdog cannot be used ({noWatchdog})", null);
        return null;
    }

    private static bool IsBehindClusterTimeline(int timeline, ClusterView view) =>
        view.History is not null && timeline > 0 && timeline < view.ClusterTimeline;

    /// <summary>
    /// Patroni's is_healthiest_node: within maximum_lag_on_failover of the last leader position, and no reachable
    /// eligible peer is a primary, is ahead of us, or is level with us and has a higher failover_priority.
    /// </summary>
    internal static (bool Healthy, string Why) IsHealthiest(HaInput input, long ownWal, ClusterView view, bool checkLag = true)
    {
        if (checkLag && view.LeaderOptime is { } leaderOptime && leaderOptime - ownWal > input.Dynamic.MaximumLagOnFailover)
        {
            return (false, $"not healthy enough for leader race: lag {leaderOptime - ownWal} bytes > " +
                           $"maximum_lag_on_failover {input.Dynamic.MaximumLagOnFailover}");
        }
        var myPriority = input.Tags.FailoverPriority;
        var syncOnly = SynchronousReplication.IsOn(input.Dynamic) && SynchronousReplication.Restricts(view.Sync);
        foreach (var peer in input.Peers)
        {
            if (!peer.Reachable || peer.Name == input.Name) continue;
            // In synchronous mode only the /sync members compete: an asynchronous peer ahead of us cannot be promoted.
            if (syncOnly && !SynchronousReplication.Matches(view.Sync, peer.Name) && !peer.IsPrimary) continue;
            if (peer.IsPrimary) return (false, $"{peer.Name} is still running as a primary");
            if (peer.NoFailover) continue;
            if (peer.WalPosition > ownWal)
                return (false, $"{peer.Name} is ahead: its WAL position {peer.WalPosition} > mine {ownWal}");
            if (peer.WalPosition == ownWal && peer.FailoverPriority > myPriority)
                return (false, $"{peer.Name} has the same WAL position and a higher failover_priority ({peer.FailoverPriority} > {myPriority})");
        }
        return (true, "healthiest");
    }

    /// <summary>Patroni's sysid_valid: a non-empty string of ASCII digits.</summary>
    public static bool IsValidSysid(string? value) => !string.IsNullOrEmpty(value) && value.All(char.IsAsciiDigit);
}
