namespace PgWarden.Dcs;

/// <summary>
/// The distributed configuration store, as the HA loop and the CLI see it. Every role-changing write is a
/// compare-and-set. Failures to reach the store throw <see cref="DcsException"/>; a lost compare-and-set returns false.
/// </summary>
public interface IDcs : IAsyncDisposable
{
    /// <summary>The whole cluster in one read (the watch cache on agents, a linearizable range for the CLI).</summary>
    Task<ClusterView> GetClusterAsync(CancellationToken ct);

    /// <summary>Create the leader key with our name and lease, only if absent.</summary>
    Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct);

    /// <summary>Unconditional put of the leader key (only right after this node bootstrapped the cluster).</summary>
    Task TakeLeaderAsync(CancellationToken ct);

    /// <summary>Renew: keep the lease alive, re-attach the key if our lease changed; false if the key is someone else's.</summary>
    Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct);

    /// <summary>Delete the leader key if it holds our name; writes status.optime first when given.</summary>
    Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct);

    /// <summary>Write members/&lt;name&gt; bound to our lease (skips the write when nothing changed).</summary>
    Task TouchMemberAsync(MemberData data, CancellationToken ct);

    /// <summary>create=true: the bootstrap race (create "" if absent); create=false: overwrite with the sysid.</summary>
    Task<bool> InitializeAsync(bool create, string value, CancellationToken ct);

    Task CancelInitializationAsync(CancellationToken ct);

    /// <summary>Write the config key; with a version, only if its mod_revision still matches.</summary>
    Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct);

    Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct);

    Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct);

    Task SetHistoryAsync(string json, CancellationToken ct);

    /// <summary>The failsafe key {name: api_url} (failsafe_mode, the lock holder); stores without it ignore it.</summary>
    Task WriteFailsafeAsync(IReadOnlyDictionary<string, string> members, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Publish status {"optime":..,"slots":{..}} (the leader, after each renewal).</summary>
    Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct);

    /// <summary>
    /// Wait up to timeout for a change that should wake the HA loop (leader key changed or deleted, config
    /// changed, failover key written). Returns true when woken by a change, false on timeout.
    /// </summary>
    Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>Apply the dynamic timings (lease TTL, request budget) after the config key changed.</summary>
    void Configure(int ttl, int loopWait, int retryTimeout);

    /// <summary>Drop and re-grant our lease (used when ttl changes).</summary>
    Task ResetSessionAsync(CancellationToken ct);

    /// <summary>
    /// The longest the leader key can outlive the start of our last successful renewal, when the store decides it
    /// rather than ttl (ZooKeeper: the session timeout the server negotiated); null means ttl. The leader's fence
    /// counts its deadline from the last renewal against the shorter of the two.
    /// </summary>
    TimeSpan? LockLifetime => null;

    /// <summary>
    /// Why the store already told us our leader key is gone (a ZooKeeper session reported expired), or null. The
    /// fence stops a running primary as soon as this is set, without waiting for the next HA cycle.
    /// </summary>
    string? LockLostReason => null;

    /// <summary>Remove every key of the cluster (pgwarden remove).</summary>
    Task DeleteClusterAsync(CancellationToken ct);
}
