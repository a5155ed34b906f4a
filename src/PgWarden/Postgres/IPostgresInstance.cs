using PgWarden.Config;
namespace PgWarden.Postgres;

public enum StopMode { Smart, Fast, Immediate }

/// <summary>What pg_rewind did: Succeeded with "no rewind required"/"rewound", or failed with its last error line.</summary>
public sealed record RewindResult(bool Succeeded, string Message);

/// <summary>How this node should run: as the primary, or as a standby of an upstream.</summary>
public sealed record RecoveryTarget(string Host, int Port, string? SlotName)
{
    /// <summary>A standby with no upstream yet (no leader, or the DCS is unreachable): read-only, not streaming.</summary>
    public static readonly RecoveryTarget NoUpstream = new("", 0, null);

    public bool HasUpstream => Host.Length > 0;
}

/// <summary>
/// One local PostgreSQL server: its files, its process and its SQL. Everything that touches PostgreSQL goes
/// through here, so the HA loop stays a gatherer and an executor.
/// </summary>
public interface IPostgresInstance
{
    /// <summary>After the local YAML was re-read: parameters, pg_hba and pg_ident for the next configuration write.</summary>
    void UseLocalConfig(AgentConfig fresh) { }

    DataDirectoryInfo InspectDataDirectory();

    /// <summary>True when a postmaster for our data directory is alive (postmaster.pid + signal 0).</summary>
    bool IsPostmasterAlive();

    /// <summary>One round of SQL on a fresh or pooled local connection; null when the server does not answer.</summary>
    Task<PostgresProbe?> ProbeAsync(CancellationToken ct);

    /// <summary>initdb with bootstrap.initdb options and the superuser password, then the config files.</summary>
    Task InitDbAsync(CancellationToken ct);

    /// <summary>Set the superuser password, create the replication and rewind roles and bootstrap.users.</summary>
    Task PostBootstrapAsync(CancellationToken ct);

    /// <summary>
    /// pg_basebackup from the given host into the (empty) data directory. With a slot name the physical slot is
    /// created on the source first (pg_basebackup --create-slot), so the replica's slot exists before it streams.
    /// </summary>
    Task CloneAsync(string host, int port, string? slotName, CancellationToken ct);

    /// <summary>
    /// Write postgresql.conf, pg_hba.conf and the recovery settings for the role: target null = primary
    /// (standby.signal removed), else standby of target. Dynamic parameters come from the DCS config.
    /// Returns true if anything on disk changed.
    /// </summary>
    Task<bool> WriteConfigurationAsync(RecoveryTarget? target, Config.DynamicConfig dynamic, CancellationToken ct);

    /// <summary>
    /// Start the postmaster (pg_ctl start, detached, log in data_dir/log/postmaster.log) and wait until it accepts
    /// connections or the timeout passes. Call WriteConfigurationAsync first: it supplies the enforced
    /// parameters passed on the command line. False on timeout (the server may still be starting) or crash.
    /// </summary>
    Task<bool> StartAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>Bounded stop: the given mode, then immediate, then SIGKILL of the postmaster.</summary>
    Task StopAsync(StopMode mode, TimeSpan timeout, CancellationToken ct);

    /// <summary>pg_ctl promote, then wait for pg_is_in_recovery() = false; false if that did not happen in time.</summary>
    Task<bool> PromoteAsync(TimeSpan timeout, CancellationToken ct);

    Task ReloadAsync(CancellationToken ct);

    /// <summary>The synchronous_standby_names value the HA loop manages; null: the user's value (synchronous_mode off).</summary>
    string? SynchronousStandbyNames { get; }

    /// <summary>
    /// Set (or with null give back to the user's configuration) synchronous_standby_names: postgresql.conf is
    /// rewritten and the server reloaded when it runs. Before any configuration was written it is only remembered.
    /// </summary>
    Task SetSynchronousStandbyNamesAsync(string? value, CancellationToken ct);

    /// <summary>On a primary: physical slots for the given names exist; other physical slots are dropped.</summary>
    Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> slotNames, CancellationToken ct);

    /// <summary>CHECKPOINT on the local server (before a switchover's shutdown, after a promotion).</summary>
    Task CheckpointAsync(CancellationToken ct);

    /// <summary>
    /// The WAL position another member's server has received (replica: max(receive, replay); primary: flush LSN),
    /// over a fresh superuser connection with a short timeout; null when it cannot be asked.
    /// </summary>
    Task<long?> RemoteReceivedLsnAsync(string host, int port, CancellationToken ct);

    /// <summary>
    /// Whether the server at host:port runs as a primary (pg_is_in_recovery() is false), asked over a fresh superuser
    /// connection within timeout: true/false as it answered, null when it could not be asked (down, hung, unreachable).
    /// </summary>
    Task<bool?> RemoteIsPrimaryAsync(string host, int port, TimeSpan timeout, CancellationToken ct);

    /// <summary>
    /// pg_rewind of the stopped local data directory from the server at host:port (the leader). It runs crash
    /// recovery itself when the target was not shut down cleanly, and says "no rewind required" when our WAL did not
    /// go past the fork point. Never throws for a failed rewind: the result carries pg_rewind's own message.
    /// </summary>
    Task<RewindResult> RewindAsync(string host, int port, CancellationToken ct);

    /// <summary>The data directory's timeline history (from pg_wal/*.history) for the history key.</summary>
    Task<IReadOnlyList<(int Timeline, long SwitchLsn, string Reason)>> ReadTimelineHistoryAsync(int timeline, CancellationToken ct);
}
