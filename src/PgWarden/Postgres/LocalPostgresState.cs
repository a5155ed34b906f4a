namespace PgWarden.Postgres;

/// <summary>What the data directory holds, read without a running server (files and pg_controldata).</summary>
public sealed record DataDirectoryInfo
{
    /// <summary>False when the directory is missing or empty.</summary>
    public bool HasData { get; init; }
    public string? SystemIdentifier { get; init; }
    /// <summary>pg_controldata "Database cluster state", e.g. "in production", "in archive recovery", "shut down".</summary>
    public string? ClusterState { get; init; }
    public int? TimelineId { get; init; }
    /// <summary>"Latest checkpoint's REDO location" / checkpoint location as an int LSN.</summary>
    public long? CheckpointLsn { get; init; }
    /// <summary>standby.signal exists.</summary>
    public bool IsStandbyConfigured { get; init; }
    /// <summary>pg_controldata "&lt;name&gt; setting" lines (max_connections, wal_log_hints, ...) by name.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>One row of pg_stat_replication as /patroni shows it.</summary>
public sealed record ReplicationRow(string Usename, string ApplicationName, string? ClientAddr, string State, string SyncState, int SyncPriority);

/// <summary>
/// A running server as one query sees it. Null when PostgreSQL is not running or does not answer.
/// </summary>
public sealed record PostgresProbe
{
    public required bool InRecovery { get; init; }
    public required int ServerVersion { get; init; }
    public DateTimeOffset? PostmasterStartTime { get; init; }
    public int Timeline { get; init; }
    /// <summary>Primary: pg_current_wal_flush_lsn; replica: null.</summary>
    public long? WalFlushLsn { get; init; }
    public long? ReceiveLsn { get; init; }
    public long? ReplayLsn { get; init; }
    public DateTimeOffset? ReplayTimestamp { get; init; }
    public bool ReplayPaused { get; init; }
    /// <summary>"streaming" when a WAL receiver runs, "in archive recovery" otherwise (replicas only).</summary>
    public string? ReplicationState { get; init; }
    /// <summary>Primary conninfo host currently streamed from (replicas).</summary>
    public string? ReceiverHost { get; init; }
    public IReadOnlyList<ReplicationRow> Replication { get; init; } = [];
    public bool PendingRestart { get; init; }
    public IReadOnlyList<string> PendingRestartParameters { get; init; } = [];
    public IReadOnlyList<string> ReplicationSlots { get; init; } = [];

    /// <summary>The node's WAL position: primary flush LSN, or replica max(receive, replay).</summary>
    public long WalPosition => WalFlushLsn ?? Math.Max(ReceiveLsn ?? 0, ReplayLsn ?? 0);
}
