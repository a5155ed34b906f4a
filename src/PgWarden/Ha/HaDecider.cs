using PgWarden.Dcs;

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

        if (!string.IsNullOrEmpty(view.Initialize) && input.DataDir.SystemIdentifier is { } sysid
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
            if (iHoldLock)
                return new Decision(HaAction.RenewLock, $"no action. I am ({me}), the leader with the lock");
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
            return new Decision(HaAction.Promote, "promoted self to leader because I had the session lock");

        if (leader is not null)
        {
            var upstream = UpstreamFor(input, view, leader);
            return new Decision(HaAction.Follow, $"no action. I am ({me}), a secondary, and following a leader ({leader})", upstream);
        }

        if (paused) return new Decision(HaAction.Nothing, "PAUSE: no leader, no automatic failover while paused");
        if (input.Tags.NoFailover)
            return new Decision(HaAction.Follow, "following no leader because I am tagged nofailover", null);

        var (healthy, why) = IsHealthiest(input, probe.WalPosition, view);
        return healthy
            ? new Decision(HaAction.AcquireLock, "promoted self to leader by acquiring session lock")
            : new Decision(HaAction.Follow, $"following no leader: {why}", null);
    }

    private static Decision DecideWithoutDcs(HaInput input)
    {
        if (input.PostmasterAlive && input.Probe is { InRecovery: false })
        {
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
            var wasPrimary = !input.DataDir.IsStandbyConfigured
                && input.DataDir.ClusterState is "in production" or "shut down" or "in crash recovery" or "shutting down";
            return wasPrimary
                ? new Decision(HaAction.StartAsPrimary, $"starting primary {me} after failure: I hold the lock")
                : new Decision(HaAction.StartAsReplica, "starting as a secondary before promoting: I hold the lock", null);
        }

        if (leader is not null)
            return new Decision(HaAction.StartAsReplica, $"starting as a secondary of leader {leader}", UpstreamFor(input, view, leader));

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

    private static bool IsBehindClusterTimeline(int timeline, ClusterView view) =>
        view.History is not null && timeline > 0 && timeline < view.ClusterTimeline;

    /// <summary>
    /// Patroni's is_healthiest_node: within maximum_lag_on_failover of the last leader position, and no reachable
    /// eligible peer is a primary, is ahead of us, or is level with us and has a higher failover_priority.
    /// </summary>
    internal static (bool Healthy, string Why) IsHealthiest(HaInput input, long ownWal, ClusterView view)
    {
        if (view.LeaderOptime is { } leaderOptime && leaderOptime - ownWal > input.Dynamic.MaximumLagOnFailover)
        {
            return (false, $"not healthy enough for leader race: lag {leaderOptime - ownWal} bytes > " +
                           $"maximum_lag_on_failover {input.Dynamic.MaximumLagOnFailover}");
        }
        var myPriority = input.Tags.FailoverPriority;
        foreach (var peer in input.Peers)
        {
            if (!peer.Reachable || peer.Name == input.Name) continue;
            if (peer.IsPrimary) return (false, $"{peer.Name} is still running as a primary");
            if (peer.NoFailover) continue;
            if (peer.WalPosition > ownWal)
                return (false, $"{peer.Name} is ahead: its WAL position {peer.WalPosition} > mine {ownWal}");
            if (peer.WalPosition == ownWal && peer.FailoverPriority > myPriority)
                return (false, $"{peer.Name} has the same WAL position and a higher failover_priority ({peer.FailoverPriority} > {myPriority})");
        }
        return (true, "healthiest");
    }
}
