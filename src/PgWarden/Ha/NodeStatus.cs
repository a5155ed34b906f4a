using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// What this node knows about itself after its last HA cycle: an immutable snapshot the loop publishes and the
/// REST API, metrics and health checks read without running any SQL.
/// </summary>
public sealed record NodeStatus
{
    public required string Scope { get; init; }
    public required string Name { get; init; }
    /// <summary>running, stopped, starting, crashed, creating replica, initializing new cluster, ...</summary>
    public string PgState { get; init; } = "stopped";
    /// <summary>The node's role as the loop knows it: master, replica, uninitialized, demoted.</summary>
    public string Role { get; init; } = "uninitialized";
    public PostgresProbe? Probe { get; init; }
    public string? SystemIdentifier { get; init; }
    public MemberTags Tags { get; init; } = MemberTags.Empty;
    public DynamicConfig Dynamic { get; init; } = DynamicConfig.Default;
    /// <summary>The last cluster view read from the DCS; null when the DCS was never reached.</summary>
    public ClusterView? View { get; init; }
    /// <summary>When the DCS last answered (for dcs_last_seen).</summary>
    public DateTimeOffset? DcsLastSeen { get; init; }
    /// <summary>Set when this node acquired or renewed the leader lock; health checks trust it for ttl seconds.</summary>
    public DateTimeOffset? LastLeaderRenewal { get; init; }
    /// <summary>When the loop expects to start its next cycle (for /liveness).</summary>
    public DateTimeOffset? NextCycleDue { get; init; }
    public string? LastDecision { get; init; }
    public bool PendingRestart { get; init; }
    /// <summary>Postmaster parameters whose configured value waits for a restart (pending_restart_reason).</summary>
    public IReadOnlyList<Operations.PendingParameter> PendingRestartParameters { get; init; } = [];
    /// <summary>The scheduled restart as stored in the member key; null when none.</summary>
    public System.Text.Json.Nodes.JsonObject? ScheduledRestart { get; init; }

    /// <summary>The last failover/switchover request this node dropped as the leader, and why; null when none.</summary>
    public FailoverDrop? LastFailoverDrop { get; init; }

    /// <summary>The watchdog is required but cannot be used (REST watchdog_failed: true; not promotable).</summary>
    public bool WatchdogFailed { get; init; }
    /// <summary>failsafe_mode is keeping this node's leader alive, or this replica accepted a POST /failsafe within ttl.</summary>
    public bool FailsafeActive { get; init; }

    public bool IsPaused => View?.Config?.Value.Pause ?? Dynamic.Pause;

    /// <summary>Patroni's Ha.is_leader(): we hold the lock and the last renewal is younger than ttl.</summary>
    public bool IsLeader(DateTimeOffset now) =>
        LastLeaderRenewal is { } renewed && View?.Leader?.Name == Name && now - renewed < TimeSpan.FromSeconds(Dynamic.Ttl);
}

/// <summary>A failover key the leader cleared without acting on it: when, and the reason it logged.</summary>
public sealed record FailoverDrop(string Reason, DateTimeOffset At);

/// <summary>Where the loop publishes its latest status and the API reads it (a single atomic reference).</summary>
public sealed class NodeStatusBoard(NodeStatus initial)
{
    private NodeStatus _current = initial;

    public NodeStatus Current => Volatile.Read(ref _current);

    public void Publish(NodeStatus status) => Volatile.Write(ref _current, status);

    /// <summary>Wakes the HA loop early (a REST action, a postmaster exit).</summary>
    public event Action? WakeRequested;

    public void RequestWake() => WakeRequested?.Invoke();
}
