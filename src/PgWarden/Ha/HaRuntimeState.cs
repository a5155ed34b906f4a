using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>What the loop remembers between cycles (PostgreSQL state names, lock bookkeeping, the last view).</summary>
internal sealed class HaRuntimeState
{
    public required DynamicConfig Dynamic { get; set; }
    public ClusterView? View { get; set; }
    public DateTimeOffset? DcsLastSeen { get; set; }
    public DateTimeOffset? LastLeaderRenewal { get; set; }
    /// <summary>Monotonic timestamp (TimeProvider.GetTimestamp) taken just before our last successful acquire/renewal.</summary>
    public long? RenewedAtTimestamp
    {
        get => _renewedAtTimestamp;
        set
        {
            var changed = _renewedAtTimestamp != value;
            _renewedAtTimestamp = value;
            if (changed) FenceInputsChanged?.Invoke();
        }
    }

    private long? _renewedAtTimestamp;
    private string _role = "uninitialized";

    /// <summary>Raised when the role or the last renewal changes: what the fence task decides on (it sleeps otherwise).</summary>
    public event Action? FenceInputsChanged;
    /// <summary>Monotonic timestamp since when the postmaster is alive but unhealthy.</summary>
    public long? UnhealthySince { get; set; }
    /// <summary>Monotonic timestamp since when PostgreSQL is down while we hold the lock.</summary>
    public long? PrimaryDownSince { get; set; }
    /// <summary>Monotonic timestamp since when this standby has no streaming WAL receiver.</summary>
    public long? NotStreamingSince { get; set; }
    /// <summary>Why the last pg_rewind failed (cleared by a successful rewind or a re-clone).</summary>
    public string? RewindFailure { get; set; }
    /// <summary>The leader (name@timeline) the failed pg_rewind ran against: a failure against an earlier leader says nothing about this one.</summary>
    public string? RewindFailureLeader { get; set; }
    /// <summary>The last other member we saw holding the lock (name and PostgreSQL address), asked again before a leader race.</summary>
    public (string Name, string Host, int Port)? LastOtherLeader { get; set; }
    /// <summary>The last /failsafe key read (failsafe_mode: whom to ask when the DCS is gone).</summary>
    public IReadOnlyDictionary<string, string>? FailsafeTopology { get; set; }
    /// <summary>Our own member key as last read (conn_url/api_url for the POST /failsafe body).</summary>
    public MemberData? SelfMember { get; set; }
    /// <summary>The failover key revision last seen pending and the monotonic timestamp it was first seen at.</summary>
    public (long Revision, long SeenAt)? FailoverSeen { get; set; }
    /// <summary>How the last DCS call failed (for the failsafe log lines).</summary>
    public DcsErrorKind? LastDcsError { get; set; }

    /// <summary>We no longer hold (or may no longer rely on) the lock.</summary>
    public void ForgetLock()
    {
        LastLeaderRenewal = null;
        RenewedAtTimestamp = null;
    }
    public PostgresProbe? Probe { get; set; }
    public string? SystemIdentifier { get; set; }
    public string PgState { get; set; } = "stopped";
    public string Role
    {
        get => _role;
        set
        {
            var changed = _role != value;
            _role = value;
            if (changed) FenceInputsChanged?.Invoke();
        }
    }
    public string? LastDecision { get; set; }
    /// <summary>The last decision asked for an early next cycle (a pending switchover re-checked); null: loop_wait.</summary>
    public TimeSpan? RecheckAfter { get; set; }
    /// <summary>Set while a long action (bootstrap, clone, start) owns the state name.</summary>
    public bool ActionOwnsState { get; set; }
    private bool _wasRunning;

    public void ObservePostgres(bool alive, PostgresProbe? probe, bool hasData)
    {
        if (ActionOwnsState) return;
        if (probe is not null)
        {
            PgState = "running";
            Role = probe.InRecovery ? "replica" : "master";
            _wasRunning = true;
        }
        else if (alive)
        {
            PgState = _wasRunning ? "running" : "starting";
        }
        else
        {
            PgState = _wasRunning ? "crashed" : "stopped";
            if (!hasData) Role = "uninitialized";
        }
    }

    /// <summary>After an orderly stop the next "not running" is "stopped", not "crashed".</summary>
    public void MarkStopped() { _wasRunning = false; PgState = "stopped"; }

    public NodeStatus ToNodeStatus(AgentConfig config, NodeStatus previous) => previous with
    {
        PgState = PgState,
        Role = Role,
        Probe = Probe,
        SystemIdentifier = SystemIdentifier,
        Tags = config.Tags,
        Dynamic = Dynamic,
        View = View,
        DcsLastSeen = DcsLastSeen,
        LastLeaderRenewal = LastLeaderRenewal,
        LastDecision = LastDecision,
        PendingRestart = Probe?.PendingRestart ?? false,
    };
}
