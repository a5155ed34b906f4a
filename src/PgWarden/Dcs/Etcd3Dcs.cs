using Microsoft.Extensions.Logging;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Dcs;

/// <summary>
/// The etcd v3 DCS, operation for operation what Patroni does (compat §1.4): one lease per process bound to
/// the member and leader keys, compare-and-set txns for every role-changing write, and (on agents) a background
/// watch that keeps the whole cluster prefix in memory and wakes the HA loop on leader/config/failover changes.
/// With watch=false (the CLI) every read is a linearizable range and nothing runs in the background.
/// The client is owned by the caller.
/// </summary>
public sealed class Etcd3Dcs : IDcs
{
    private static readonly TimeSpan WatchRetryPause = TimeSpan.FromSeconds(1);

    private readonly Etcd3Client client;
    private readonly string memberName;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly bool watch;

    private readonly SemaphoreSlim leaseLock = new(1, 1);
    private long leaseId;
    private long lastLeaseRefresh;
    private int ttl = 30;
    private int loopWait = 10;
    private int retryTimeout = 10;

    private readonly Lock memberGate = new();
    private string? lastMemberJson;
    private long lastMemberLease;
    private string? lastStatusJson;
    private string? lastFailsafeJson;

    // Watch cache: guarded by cacheGate.
    private readonly Lock cacheGate = new();
    private readonly Dictionary<string, Etcd3KeyValue> cache = new(StringComparer.Ordinal);
    private long cacheRevision;
    private bool cacheReady;
    private bool watchFailing;
    private ClusterView? cachedView;
    private TaskCompletionSource readySignal = NewSignal();
    private readonly ChangeSignal changes = new();
    private CancellationTokenSource? streamCts;
    private readonly CancellationTokenSource stopCts = new();
    private Task? watchTask;

    public Etcd3Dcs(Etcd3Client client, string @namespace, string scope, string memberName, TimeProvider time, ILogger logger,
        bool watch = true)
    {
        this.client = client;
        this.memberName = memberName;
        this.time = time;
        this.logger = logger;
        this.watch = watch;
        Keys = new DcsKeys(@namespace, scope);
        if (watch) client.EndpointChanged += OnEndpointChanged;
    }

    /// <summary>A CLI-side instance: linearizable reads, no watch, no background work.</summary>
    public static Etcd3Dcs ForCli(Etcd3Client client, string @namespace, string scope, TimeProvider time, ILogger logger) =>
        new(client, @namespace, scope, memberName: "", time, logger, watch: false);

    public DcsKeys Keys { get; }

    /// <summary>Our current lease ID (0 before the first grant or after it was dropped).</summary>
    public long LeaseId => Interlocked.Read(ref leaseId);

    /// <summary>
    /// Apply the dynamic timings. A changed ttl drops the lease: the next refresh grants one with the new TTL and
    /// the leader's next renewal re-attaches the leader key to it (the old lease simply expires).
    /// </summary>
    public void Configure(int ttl, int loopWait, int retryTimeout)
    {
        if (ttl <= 0 || loopWait <= 0 || retryTimeout <= 0)
            throw new ArgumentException($"ttl/loop_wait/retry_timeout must be positive, got {ttl}/{loopWait}/{retryTimeout}");
        var oldTtl = Interlocked.Exchange(ref this.ttl, ttl);
        Volatile.Write(ref this.loopWait, loopWait);
        Volatile.Write(ref this.retryTimeout, retryTimeout);
        client.RetryTimeout = TimeSpan.FromSeconds(retryTimeout);
        if (oldTtl != ttl && Interlocked.Exchange(ref leaseId, 0) != 0)
        {
            logger.LogInformation("ttl changed from {Old} to {New}: a new lease will be granted", oldTtl, ttl);
            ForgetMemberWrite();
        }
    }

    private TimeSpan RetryTimeout => TimeSpan.FromSeconds(Volatile.Read(ref retryTimeout));

    // ---- reads ----

    public async Task<ClusterView> GetClusterAsync(CancellationToken ct)
    {
        if (!watch)
        {
            var range = await client.GetPrefixAsync(Keys.Prefix, serializable: false, ct);
            return DcsCodec.ParseCluster(Keys, range.Kvs, range.Header.Revision);
        }
        StartWatch();
        Task ready;
        lock (cacheGate)
        {
            if (cacheReady) return CachedView();
            ready = readySignal.Task;
            if (watchFailing) ready = Task.FromException(new TimeoutException());
        }
        try
        {
            await ready.WaitAsync(RetryTimeout, time, ct);
            lock (cacheGate)
            {
                if (cacheReady) return CachedView();
            }
        }
        catch (TimeoutException)
        {
        }
        // The watch is down: read directly (serializable like Patroni, so a partitioned member still answers).
        var direct = await client.GetPrefixAsync(Keys.Prefix, serializable: true, ct);
        return DcsCodec.ParseCluster(Keys, direct.Kvs, direct.Header.Revision);
    }

    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!watch)
        {
            await Task.Delay(timeout, time, ct);
            return false;
        }
        StartWatch();
        return await changes.WaitAsync(timeout, time, ct);
    }

    // ---- leader ----

    public Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("acquire leader", c => WithLeaseAsync(async lease =>
        {
            var r = await client.TxnAsync([Etcd3Txn.KeyMissing(Keys.Leader)], [Etcd3Txn.Put(Keys.Leader, memberName, lease)], null, c);
            if (r.Succeeded) logger.LogInformation("acquired the leader key {Key} with lease {Lease}", Keys.Leader, lease);
            return r.Succeeded;
        }, c), ct);

    public Task TakeLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("take leader", c => WithLeaseAsync(async lease =>
        {
            await client.PutAsync(Keys.Leader, memberName, lease, c);
            return true;
        }, c), ct);

    public Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct) =>
        WithinRetryTimeoutAsync("renew leader", async c =>
        {
            var lease = await RefreshLeaseAsync(force: true, c);
            if (current is not null && current.Name == memberName && current.LeaseId == lease) return true;
            // The key is on another (older) lease or gone: re-attach it to ours, if it is still ours or free.
            return await WithLeaseAsync(async l =>
            {
                var put = Etcd3Txn.Put(Keys.Leader, memberName, l);
                var r = await client.TxnAsync(
                    [Etcd3Txn.ValueIs(Keys.Leader, memberName)],
                    [put],
                    [Etcd3Txn.Nested([Etcd3Txn.KeyMissing(Keys.Leader)], [Etcd3Txn.Put(Keys.Leader, memberName, l)])],
                    c);
                return r.Succeeded || r.NestedSucceeded(0);
            }, c);
        }, ct);

    public Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete leader", async c =>
        {
            if (lastLsn is { } lsn)
            {
                var json = DcsCodec.SerializeStatus(lsn, null);
                await client.PutAsync(Keys.Status, json, 0, c);
                lock (memberGate) lastStatusJson = json;
            }
            var r = await client.TxnAsync([Etcd3Txn.ValueIs(Keys.Leader, memberName)], [Etcd3Txn.Delete(Keys.Leader)], null, c);
            if (r.Succeeded) logger.LogInformation("deleted the leader key {Key}", Keys.Leader);
            return r.Succeeded;
        }, ct);

    // ---- members and other keys ----

    public Task TouchMemberAsync(MemberData data, CancellationToken ct) =>
        WithinRetryTimeoutAsync("touch member", async c =>
        {
            var json = DcsCodec.SerializeMember(data);
            var lease = await RefreshLeaseAsync(force: false, c);
            bool unchanged;
            lock (memberGate) unchanged = json == lastMemberJson && lease == lastMemberLease;
            if (unchanged && CacheAgrees(Keys.Member(memberName), json, lease)) return true;
            await WithLeaseAsync(async l =>
            {
                await client.PutAsync(Keys.Member(memberName), json, l, c);
                lock (memberGate)
                {
                    lastMemberJson = json;
                    lastMemberLease = l;
                }
                return true;
            }, c);
            return true;
        }, ct);

    public Task<bool> InitializeAsync(bool create, string value, CancellationToken ct) =>
        WithinRetryTimeoutAsync("initialize", async c =>
        {
            if (!create)
            {
                await client.PutAsync(Keys.Initialize, value, 0, c);
                return true;
            }
            var r = await client.TxnAsync([Etcd3Txn.KeyMissing(Keys.Initialize)], [Etcd3Txn.Put(Keys.Initialize, value)], null, c);
            return r.Succeeded;
        }, ct);

    public Task CancelInitializationAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("cancel initialization", async c => await client.DeleteAsync(Keys.Initialize, c), ct);

    public Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Config, json, version, ct);

    public Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Failover, json, version, ct);

    public Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct)
    {
        if (json is not null) return PutMaybeCasAsync(Keys.Sync, json, version, ct);
        return WithinRetryTimeoutAsync("delete sync", async c =>
        {
            if (version is null)
            {
                await client.DeleteAsync(Keys.Sync, c);
                return true;
            }
            var r = await client.TxnAsync([Etcd3Txn.ModRevisionIs(Keys.Sync, version.Value)], [Etcd3Txn.Delete(Keys.Sync)], null, c);
            if (!r.Succeeded) RestartWatch();
            return r.Succeeded;
        }, ct);
    }

    public Task SetHistoryAsync(string json, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write history", async c => await client.PutAsync(Keys.History, json, 0, c), ct);

    public Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write status", async c =>
        {
            var json = DcsCodec.SerializeStatus(optime, slots);
            lock (memberGate)
            {
                if (json == lastStatusJson) return false;
            }
            await client.PutAsync(Keys.Status, json, 0, c);
            lock (memberGate) lastStatusJson = json;
            return true;
        }, ct);

    /// <summary>The failsafe key {name: api_url} (failsafe_mode); written only when the content changed.</summary>
    public Task WriteFailsafeAsync(IReadOnlyDictionary<string, string> members, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write failsafe", async c =>
        {
            var json = DcsCodec.SerializeFailsafe(members);
            lock (memberGate)
            {
                if (json == lastFailsafeJson) return false;
            }
            await client.PutAsync(Keys.Failsafe, json, 0, c);
            lock (memberGate) lastFailsafeJson = json;
            return true;
        }, ct);

    public Task ResetSessionAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("reset session", async c =>
        {
            // Not revoked: revoking would delete the leader key at once; the old lease just expires.
            Interlocked.Exchange(ref leaseId, 0);
            ForgetMemberWrite();
            return await RefreshLeaseAsync(force: true, c);
        }, ct);

    public Task DeleteClusterAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete cluster", async c => await client.DeletePrefixAsync(Keys.Prefix, c), ct);

    private Task<bool> PutMaybeCasAsync(string key, string json, long? version, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write " + key, async c =>
        {
            if (version is null)
            {
                await client.PutAsync(key, json, 0, c);
                return true;
            }
            var r = await client.TxnAsync([Etcd3Txn.ModRevisionIs(key, version.Value)], [Etcd3Txn.Put(key, json)], null, c);
            // A lost compare-and-set suggests our cache is stale: re-read it (as Patroni does).
            if (!r.Succeeded) RestartWatch();
            return r.Succeeded;
        }, ct);

    // ---- lease ----

    /// <summary>
    /// Returns a live lease: with force, or when the last refresh is at least loop_wait old, sends a keepalive;
    /// grants a new lease when there is none or the keepalive says it expired (no result.TTL).
    /// Patroni's rule (Etcd3._do_refresh_lease): the leader forces a keepalive every cycle with its lock; a replica's
    /// lease, which only holds its member key, is refreshed every cycle or every other one (at most 2 x loop_wait
    /// apart), which keeps an idle cluster's etcd requests at Patroni's rate. The threshold is also capped at ttl/3 so
    /// that a ttl close to loop_wait still gets a keepalive every cycle.
    /// </summary>
    private async Task<long> RefreshLeaseAsync(bool force, CancellationToken ct)
    {
        await leaseLock.WaitAsync(ct);
        try
        {
            var id = Interlocked.Read(ref leaseId);
            if (id != 0)
            {
                var since = time.GetElapsedTime(Interlocked.Read(ref lastLeaseRefresh));
                var threshold = TimeSpan.FromSeconds(Math.Min(Volatile.Read(ref loopWait), Volatile.Read(ref ttl) / 3.0));
                if (!force && since < threshold) return id;
                if (await client.LeaseKeepAliveAsync(id, ct) is not null)
                {
                    Interlocked.Exchange(ref lastLeaseRefresh, time.GetTimestamp());
                    return id;
                }
                logger.LogWarning("lease {Lease} has expired; granting a new one", id);
                Interlocked.CompareExchange(ref leaseId, 0, id);
            }
            return await GrantLeaseLockedAsync(ct);
        }
        finally
        {
            leaseLock.Release();
        }
    }

    private async Task<long> EnsureLeaseAsync(CancellationToken ct)
    {
        var id = Interlocked.Read(ref leaseId);
        if (id != 0) return id;
        await leaseLock.WaitAsync(ct);
        try
        {
            id = Interlocked.Read(ref leaseId);
            return id != 0 ? id : await GrantLeaseLockedAsync(ct);
        }
        finally
        {
            leaseLock.Release();
        }
    }

    private async Task<long> GrantLeaseLockedAsync(CancellationToken ct)
    {
        var lease = await client.LeaseGrantAsync(Volatile.Read(ref ttl), ct);
        Interlocked.Exchange(ref leaseId, lease.Id);
        Interlocked.Exchange(ref lastLeaseRefresh, time.GetTimestamp());
        logger.LogInformation("granted lease {Lease} with TTL {Ttl} s", lease.Id, lease.Ttl);
        return lease.Id;
    }

    /// <summary>Runs a lease-bound write; "requested lease not found" drops the lease and retries once with a new one.</summary>
    private async Task<T> WithLeaseAsync<T>(Func<long, Task<T>> op, CancellationToken ct)
    {
        var lease = await EnsureLeaseAsync(ct);
        try
        {
            return await op(lease);
        }
        catch (DcsException e) when (e.Kind == DcsErrorKind.LeaseNotFound)
        {
            logger.LogWarning("lease {Lease} is gone ({Message}); granting a new one", lease, e.Message);
            Interlocked.CompareExchange(ref leaseId, 0, lease);
            ForgetMemberWrite();
            return await op(await EnsureLeaseAsync(ct));
        }
    }

    private void ForgetMemberWrite()
    {
        lock (memberGate)
        {
            lastMemberJson = null;
            lastMemberLease = 0;
        }
    }

    /// <summary>Bounds a whole operation (several HTTP calls) by retry_timeout; running out is a Timeout error.</summary>
    private async Task<T> WithinRetryTimeoutAsync<T>(string what, Func<CancellationToken, Task<T>> op, CancellationToken ct)
    {
        var budget = RetryTimeout;
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(budget, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            return await op(linked.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Out of budget: say why if the client saw it (no raft leader, refused, auth), not just "timeout".
            var kind = client.FailureKindSince(started) ?? DcsErrorKind.Timeout;
            throw new DcsException(kind, $"etcd: {what} did not finish within retry_timeout {budget.TotalSeconds:0.###} s" +
                                         (kind == DcsErrorKind.Timeout ? "" : $" ({kind})"), e);
        }
    }

    // ---- watch cache ----

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void StartWatch()
    {
        if (watchTask is not null) return;
        lock (cacheGate)
        {
            watchTask ??= Task.Run(() => WatchLoopAsync(stopCts.Token));
        }
    }

    private void RestartWatch()
    {
        if (!watch) return;
        lock (cacheGate)
        {
            try
            {
                streamCts?.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void OnEndpointChanged(string endpoint)
    {
        logger.LogInformation("etcd endpoint is now {Endpoint}; restarting the watch there", endpoint);
        RestartWatch();
    }

    private async Task WatchLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var failed = false;
            try
            {
                var range = await client.GetPrefixAsync(Keys.Prefix, serializable: true, stop);
                using var stream = CancellationTokenSource.CreateLinkedTokenSource(stop);
                lock (cacheGate) streamCts = stream;
                LoadSnapshot(range);
                await foreach (var response in client.WatchPrefixAsync(Keys.Prefix, range.Header.Revision + 1, stream.Token))
                {
                    if (response.Canceled)
                    {
                        logger.LogInformation("etcd watch canceled ({Reason}, compact revision {Compact}); restarting",
                            response.CancelReason, response.CompactRevision);
                        break;
                    }
                    ApplyEvents(response);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                // The stream was cancelled on purpose (endpoint switch, stale cache): start over at once.
            }
            catch (Exception e)
            {
                failed = true;
                logger.LogWarning("etcd watch failed: {Message}; restarting", e.Message);
            }
            lock (cacheGate)
            {
                streamCts = null;
                cacheReady = false;
                watchFailing = failed;
                cachedView = null;
            }
            try
            {
                await Task.Delay(failed ? WatchRetryPause : TimeSpan.FromMilliseconds(50), time, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void LoadSnapshot(Etcd3RangeResult range)
    {
        bool wake;
        lock (cacheGate)
        {
            var hadSnapshot = cacheRevision > 0;
            var oldLeader = cache.GetValueOrDefault(Keys.Leader)?.Value;
            var oldConfig = cache.GetValueOrDefault(Keys.Config)?.Value;
            var oldFailover = cache.GetValueOrDefault(Keys.Failover)?.ModRevision;
            cache.Clear();
            foreach (var kv in range.Kvs) cache[kv.Key] = kv;
            cacheRevision = range.Header.Revision;
            cachedView = null;
            cacheReady = true;
            watchFailing = false;
            readySignal.TrySetResult();
            readySignal = NewSignal();
            wake = hadSnapshot && (oldLeader != cache.GetValueOrDefault(Keys.Leader)?.Value
                                   || oldConfig != cache.GetValueOrDefault(Keys.Config)?.Value
                                   || oldFailover != cache.GetValueOrDefault(Keys.Failover)?.ModRevision);
            if (wake) changes.Set();
        }
    }

    private void ApplyEvents(Etcd3WatchResponse response)
    {
        lock (cacheGate)
        {
            var wake = false;
            foreach (var e in response.Events)
            {
                var key = e.Kv.Key;
                cache.TryGetValue(key, out var existing);
                if (e.Type == Etcd3EventType.Put)
                {
                    if (existing is not null && existing.ModRevision >= e.Kv.ModRevision) continue;
                    cache[key] = e.Kv;
                    wake |= (key == Keys.Leader && existing?.Value != e.Kv.Value)
                            || (key == Keys.Config && existing?.Value != e.Kv.Value)
                            || key == Keys.Failover;
                }
                else
                {
                    if (existing is not null && existing.ModRevision > e.Kv.ModRevision) continue;
                    wake |= cache.Remove(key) && key == Keys.Leader;
                }
            }
            if (response.Header.Revision > cacheRevision) cacheRevision = response.Header.Revision;
            cachedView = null;
            if (wake) changes.Set();
        }
    }

    private ClusterView CachedView() => cachedView ??= DcsCodec.ParseCluster(Keys, cache.Values, cacheRevision);

    /// <summary>True unless the ready cache shows the key missing, on another lease, or with another value.</summary>
    private bool CacheAgrees(string key, string value, long lease)
    {
        if (!watch) return true;
        lock (cacheGate)
        {
            if (!cacheReady) return true;
            return cache.TryGetValue(key, out var kv) && kv.Value == value && kv.Lease == lease;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (watch) client.EndpointChanged -= OnEndpointChanged;
        await stopCts.CancelAsync();
        if (watchTask is not null)
        {
            try
            {
                await watchTask;
            }
            catch (Exception e)
            {
                logger.LogDebug("etcd watch ended with {Message}", e.Message);
            }
        }
        stopCts.Dispose();
        leaseLock.Dispose();
    }
}
