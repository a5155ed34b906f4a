using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// Everything one HA decision depends on, gathered before deciding: what the DCS says, what the local
/// PostgreSQL says, what the peers answered, our own settings and the time. No I/O happens after this is built.
/// </summary>
public sealed record HaInput
{
    public required string Name { get; init; }
    public MemberTags Tags { get; init; } = MemberTags.Empty;
    /// <summary>The local configuration has a bootstrap section (only such nodes may run initdb).</summary>
    public bool CanBootstrap { get; init; } = true;
    /// <summary>null when the DCS could not be read this cycle.</summary>
    public ClusterView? View { get; init; }
    public DynamicConfig Dynamic { get; init; } = DynamicConfig.Default;
    public required DataDirectoryInfo DataDir { get; init; }
    public bool PostmasterAlive { get; init; }
    /// <summary>null when PostgreSQL is not running or did not answer.</summary>
    public PostgresProbe? Probe { get; init; }
    /// <summary>What the other members' REST APIs answered (only gathered when a leader race may happen).</summary>
    public IReadOnlyList<PeerStatus> Peers { get; init; } = [];
    public DateTimeOffset Now { get; init; }
    /// <summary>When we last acquired or renewed the lock (monotonic bookkeeping kept by the loop).</summary>
    public DateTimeOffset? LastLeaderRenewal { get; init; }
    /// <summary>Monotonic time since the start of our last successful acquire/renewal; null when we hold no lock.</summary>
    public TimeSpan? SinceLastRenewal { get; init; }
    /// <summary>How long the postmaster has been alive but unhealthy (stopped, or refusing fresh connections); null when healthy.</summary>
    public TimeSpan? PostgresUnhealthyFor { get; init; }
    /// <summary>How long PostgreSQL has been down while we held the lock (for primary_start_timeout); null when running.</summary>
    public TimeSpan? PrimaryDownFor { get; init; }
    /// <summary>How long this standby has been in recovery without a streaming WAL receiver; null when streaming or not a standby.</summary>
    public TimeSpan? NotStreamingFor { get; init; }
    /// <summary>How to rejoin after a divergence (use_pg_rewind and the remove_data_directory_* switches).</summary>
    public RejoinPolicy Rejoin { get; init; } = RejoinPolicy.Default;
    /// <summary>
    /// During a leader race: the name of the last leader we saw when its PostgreSQL, asked over a fresh connection, still
    /// runs as a primary (its agent is frozen or dead, so its lock and member key expired, but the server accepts writes);
    /// null when it is down, in recovery, unreachable, or there was no race.
    /// </summary>
    public string? FormerLeaderStillPrimary { get; init; }
    /// <summary>Why the last pg_rewind failed; null when none failed since the last successful start.</summary>
    public string? RewindFailure { get; init; }
    /// <summary>A primary without the DCS in failsafe_mode: what the members listed in /failsafe answered; null when not asked.</summary>
    public Safety.FailsafeOutcome? Failsafe { get; init; }
    /// <summary>A primary that confirmed itself over POST /failsafe less than ttl ago (we must not race); null when none.</summary>
    public string? FailsafeLeader { get; init; }
    /// <summary>
    /// How long this agent has seen the current failover key (same revision) pending; null when there is none or it
    /// was not seen before. A switchover whose candidate only failed transient checks waits for it (bounded).
    /// </summary>
    public TimeSpan? FailoverPendingFor { get; init; }
    /// <summary>Why a required watchdog cannot be used; null when it can (or the mode is not required).</summary>
    public string? WatchdogUnusable { get; init; }
}

/// <summary>The local switches that decide what a diverged node may do to its data directory.</summary>
public sealed record RejoinPolicy(bool UsePgRewind, bool RemoveOnRewindFailure, bool RemoveOnDivergedTimelines)
{
    public static readonly RejoinPolicy Default = new(false, false, false);
}

/// <summary>
/// A peer's answer to GET /patroni during a leader race (Reachable false when it did not answer in time, or answered
/// without a WAL position). Problem says what went wrong, with the URL ("did not answer GET ... within 1.5 s").
/// </summary>
public sealed record PeerStatus(string Name, bool Reachable, bool IsPrimary, long WalPosition, bool NoFailover, int FailoverPriority,
    string? Problem = null)
{
    public static PeerStatus Unreachable(string name, string? problem = null) => new(name, false, false, 0, false, 0, problem);
}
