namespace PgWarden.Ha;

/// <summary>The one thing an HA cycle does. The executor turns it into PostgreSQL and DCS operations.</summary>
public enum HaAction
{
    /// <summary>Nothing to change (a steady state, or waiting for someone else).</summary>
    Nothing,
    /// <summary>The DCS cannot be read; keep PostgreSQL as it is (replicas) and retry.</summary>
    WaitForDcs,
    /// <summary>The DCS cannot be read and we run a writable primary: stop accepting writes before the lock can expire.</summary>
    DemoteOffline,
    /// <summary>Try to create the initialize key; the winner runs initdb and becomes the leader.</summary>
    RaceForBootstrap,
    /// <summary>Empty data directory and a running member to copy: pg_basebackup from Target.</summary>
    CloneFromMember,
    /// <summary>The data directory belongs to another cluster: refuse to touch it and stop the agent.</summary>
    FatalSystemIdMismatch,
    /// <summary>Data but no initialize key and no leader: publish our system identifier as the cluster's.</summary>
    ClaimInitialize,
    /// <summary>We hold the lock and PostgreSQL is down: start it as the primary.</summary>
    StartAsPrimary,
    /// <summary>PostgreSQL is down: start it as a standby of Target (null: no upstream yet).</summary>
    StartAsReplica,
    /// <summary>We are the running primary with the lock: renew it and publish status.</summary>
    RenewLock,
    /// <summary>We hold the lock but run as a standby: promote.</summary>
    Promote,
    /// <summary>No leader and we are the healthiest eligible node: take the lock by compare-and-set, then promote.</summary>
    AcquireLock,
    /// <summary>We run as a standby: make sure we stream from Target (re-point primary_conninfo if needed).</summary>
    Follow,
    /// <summary>We run a primary but someone else holds the lock: stop at once and come back as its standby.</summary>
    DemoteToReplica,
    /// <summary>We are the leader and the failover key cannot be honoured (or is stale): renew, then clear it.</summary>
    RenewAndClearFailover,
    /// <summary>We are the leader and a switchover to Target (null: the best candidate) is due: graceful demote.</summary>
    GracefulSwitchover,
    /// <summary>We hold the lock but our postmaster is hung: kill it and release the lock so a replica takes over.</summary>
    ReleaseHungPrimary,
    /// <summary>We hold the lock but our primary did not come back within primary_start_timeout: release the lock.</summary>
    ReleaseLock,
    /// <summary>Our data diverged from the leader Target: stop, pg_rewind from it, start as its standby.</summary>
    Rewind,
    /// <summary>Diverged and cannot rewind, but allowed to: wipe the data directory and clone again from Target.</summary>
    Reinitialize,
    /// <summary>Diverged and not allowed to repair: stay stopped, and say why (log, /patroni, list).</summary>
    StayStopped,
    /// <summary>The DCS is unreachable but every member listed in /failsafe confirmed us: stay primary this cycle.</summary>
    FailsafeHold,
    /// <summary>We run as the primary with the lock but may not (required watchdog unusable): stop, release the lock.</summary>
    DemoteAndReleaseLock,
}

/// <summary>An action plus the human-readable reason that the loop logs once per cycle.</summary>
public sealed record Decision(HaAction Action, string Reason, string? Target = null)
{
    /// <summary>Run the next cycle after this long instead of loop_wait (a pending request re-checked soon); null: loop_wait.</summary>
    public TimeSpan? RecheckAfter { get; init; }

    public override string ToString() => Target is null ? $"{Action}: {Reason}" : $"{Action}({Target}): {Reason}";
}
