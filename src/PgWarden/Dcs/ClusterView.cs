using PgWarden.Config;

namespace PgWarden.Dcs;

/// <summary>
/// Everything the DCS says about one cluster, read in one request. Immutable: the HA decision and the REST API
/// read a snapshot and never see it change under them.
/// </summary>
public sealed record ClusterView
{
    /// <summary>null: the initialize key is missing; "": a bootstrap is under way; else the system identifier.</summary>
    public string? Initialize { get; init; }
    public VersionedConfig? Config { get; init; }
    /// <summary>Set when the config key exists but cannot be used (agents keep their last good configuration).</summary>
    public InvalidConfigKey? InvalidConfig { get; init; }
    public LeaderKey? Leader { get; init; }
    public IReadOnlyList<Member> Members { get; init; } = [];
    public ClusterStatus? Status { get; init; }
    public FailoverRequest? Failover { get; init; }
    public SyncState? Sync { get; init; }
    /// <summary>null when the history key is missing.</summary>
    public IReadOnlyList<HistoryEntry>? History { get; init; }
    /// <summary>The failsafe key {name: api_url}; null when missing.</summary>
    public IReadOnlyDictionary<string, string>? Failsafe { get; init; }
    /// <summary>etcd's header.revision of the read (0 for other stores).</summary>
    public long Revision { get; init; }
    /// <summary>Keys whose values could not be read (they read as missing or empty above); logged by the HA loop.</summary>
    public IReadOnlyList<DcsValueProblem> Problems { get; init; } = [];

    public static readonly ClusterView Empty = new();

    public Member? FindMember(string name) => Members.FirstOrDefault(m => m.Name == name);
    public Member? LeaderMember => Leader is null ? null : FindMember(Leader.Name);
    public bool IsUnlocked => Leader is null;

    /// <summary>Cluster timeline per Patroni: last history line's timeline + 1; 1 for []; 0 when absent.</summary>
    public int ClusterTimeline => History is null ? 0 : History.Count == 0 ? 1 : History[^1].Timeline + 1;

    /// <summary>The leader's last published WAL position (status.optime).</summary>
    public long? LeaderOptime => Status?.Optime;
}

public sealed record InvalidConfigKey(string Error, long ModRevision);

public sealed record VersionedConfig(DynamicConfig Value, long ModRevision, string RawJson);

/// <summary>The leader lock: the holder's name, the key's revision, and the lease it is bound to.</summary>
public sealed record LeaderKey(string Name, long ModRevision, long LeaseId);

public sealed record Member(string Name, MemberData Data, long ModRevision, long LeaseId);

public sealed record ClusterStatus(long? Optime, IReadOnlyDictionary<string, long> Slots);

/// <summary>
/// The failover key. Leader set: a switchover from that leader; only Candidate set: a manual failover.
/// </summary>
public sealed record FailoverRequest(string? Leader, string? Candidate, DateTimeOffset? ScheduledAt, long ModRevision)
{
    public bool IsEmpty => string.IsNullOrEmpty(Leader) && string.IsNullOrEmpty(Candidate);
}

public sealed record SyncState(string? Leader, IReadOnlyList<string> SyncStandbys, int Quorum, long ModRevision);

/// <summary>One history line: the parent timeline that ended at SwitchLsn.</summary>
public sealed record HistoryEntry(int Timeline, long SwitchLsn, string Reason, string? Timestamp, string? NewLeader);
