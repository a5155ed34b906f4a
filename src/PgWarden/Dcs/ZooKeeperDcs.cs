using System.Text;
using Microsoft.Extensions.Logging;
using PgWarden.Dcs.Etcd3;
using PgWarden.Dcs.ZooKeeper;

namespace PgWarden.Dcs;

/// <summary>
/// The ZooKeeper DCS with Patroni's layout (compat §1.6): znodes under /&lt;namespace&gt;/&lt;scope&gt;; leader and
/// members/&lt;name&gt; are ephemeral znodes of this process's session, everything else persistent. The session
/// timeout is ttl; the session is the lease: when it expires its leader znode is gone and the holder has lost the
/// lock, which <see cref="UpdateLeaderAsync"/> reports (false) until the lock is acquired again. Compare-and-set
/// uses the znode version. Every read goes to the server (pipelined); on agents the reads leave watches on
/// leader, config and failover that wake the HA loop. The client is owned by this object.
/// </summary>
public sealed class ZooKeeperDcs : IDcs
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    private readonly ZooKeeperClient client;
    private readonly string memberName;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly bool watch;
    private readonly string basePath;

    private int ttl = 30;
    private int retryTimeout = 10;

    private readonly Lock gate = new();
    private bool lockLostToExpiry;
    private string? lastMemberJson;
    private long lastMemberSession;
    private string? lastStatusJson;
    private TaskCompletionSource changeSignal = NewSignal();

    public ZooKeeperDcs(ZooKeeperClient client, string @namespace, string scope, string memberName, TimeProvider time, ILogger logger,
        bool watch = true)
    {
        this.client = client;
        this.memberName = memberName;
        this.time = time;
        this.logger = logger;
        this.watch = watch;
        Keys = new DcsKeys(@namespace, scope);
        basePath = Keys.Base;
        client.WatchFired += OnWatch;
        client.SessionExpired += OnSessionExpired;
        client.Connected += OnConnected;
    }

    public static ZooKeeperDcs ForCli(ZooKeeperClient client, string @namespace, string scope, TimeProvider time, ILogger logger) =>
        new(client, @namespace, scope, memberName: "", time, logger, watch: false);

    public DcsKeys Keys { get; }

    public ZooKeeperClient Client => client;

    /// <summary>
    /// ttl is the session timeout; a change restarts the session, as Patroni does (the leader's next renewal
    /// re-creates its znode). loop_wait only shapes Patroni's kazoo timeouts, which this client derives from the
    /// negotiated session timeout instead.
    /// </summary>
    public void Configure(int ttl, int loopWait, int retryTimeout)
    {
        if (ttl <= 0 || loopWait <= 0 || retryTimeout <= 0)
            throw new ArgumentException($"ttl/loop_wait/retry_timeout must be positive, got {ttl}/{loopWait}/{retryTimeout}");
        Volatile.Write(ref this.retryTimeout, retryTimeout);
        var old = Interlocked.Exchange(ref this.ttl, ttl);
        client.SessionTimeout = TimeSpan.FromSeconds(ttl);
        if (old != ttl && client.SessionId != 0)
        {
            ZooKeeperLog.TtlChanged(logger, old, ttl);
            ForgetWrites();
            _ = client.RestartSessionAsync(CancellationToken.None);
        }
    }

    private TimeSpan RetryTimeout => TimeSpan.FromSeconds(Volatile.Read(ref retryTimeout));

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    // ---- reads ----

    public Task<ClusterView> GetClusterAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("read cluster", async c =>
        {
            string[] plain = [DcsKeys.ConfigKey, DcsKeys.InitializeKey, DcsKeys.LeaderKey, DcsKeys.StatusKey, DcsKeys.LegacyOptimeKey,
                DcsKeys.FailoverKey, DcsKeys.SyncKey, DcsKeys.HistoryKey, DcsKeys.FailsafeKey];
            var reads = plain.Select(k => ReadAsync(Keys.Key(k), watch && IsWatched(k), c)).ToList();
            var membersPath = Keys.Key(DcsKeys.MembersDir.TrimEnd('/'));
            var children = await client.GetChildrenAsync(membersPath, false, c) ?? [];
            var memberReads = children.Select(name => ReadAsync(membersPath + "/" + name, false, c)).ToList();
            var kvs = new List<Etcd3KeyValue>();
            foreach (var r in reads.Concat(memberReads))
                if (await r is { } kv) kvs.Add(kv);
            return DcsCodec.ParseCluster(Keys, kvs, 0);
        }, ct);

    private static bool IsWatched(string relative) => relative is DcsKeys.LeaderKey or DcsKeys.ConfigKey or DcsKeys.FailoverKey;

    /// <summary>One znode as a key-value (mod revision = znode version, lease = ephemeral owner), or null if missing.</summary>
    private async Task<Etcd3KeyValue?> ReadAsync(string path, bool setWatch, CancellationToken ct)
    {
        var node = await client.GetDataAsync(path, setWatch, ct);
        if (node is null)
        {
            // A read of a missing znode leaves no watch: an exists-watch fires when it is created.
            if (setWatch) await client.ExistsAsync(path, true, ct);
            return null;
        }
        var (data, stat) = node.Value;
        return new Etcd3KeyValue(path, Encoding.UTF8.GetString(data), stat.Czxid, stat.Version, stat.Version, stat.EphemeralOwner);
    }

    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!watch)
        {
            await Task.Delay(timeout, time, ct);
            return false;
        }
        Task changed;
        lock (gate)
        {
            changed = changeSignal.Task;
            if (changed.IsCompleted)
            {
                changeSignal = NewSignal();
                return true;
            }
        }
        try
        {
            await changed.WaitAsync(timeout, time, ct);
        }
        catch (TimeoutException)
        {
            return false;
        }
        lock (gate)
        {
            if (changeSignal.Task == changed) changeSignal = NewSignal();
        }
        return true;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake()
    {
        lock (gate) changeSignal.TrySetResult();
    }

    private void OnWatch(ZkWatchEvent e)
    {
        if (e.Path == Keys.Leader || e.Path == Keys.Config || e.Path == Keys.Failover) Wake();
    }

    /// <summary>The session is the lock: it lives the negotiated session timeout after the server last heard from us.</summary>
    public TimeSpan? LockLifetime => client.NegotiatedTimeoutMs > 0 ? TimeSpan.FromMilliseconds(client.NegotiatedTimeoutMs) : null;

    public string? LockLostReason
    {
        get { lock (gate) return lockLostToExpiry ? "the ZooKeeper session that owned the leader znode expired" : null; }
    }

    private void OnSessionExpired(long session)
    {
        lock (gate) lockLostToExpiry = true;
        ForgetWrites();
        Wake();
    }

    private void OnConnected(bool newSession)
    {
        // Watches do not survive a connection: the next read sets them again, so read now.
        if (newSession) ForgetWrites();
        Wake();
    }

    // ---- leader ----

    public Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("acquire leader", async c =>
        {
            try
            {
                await client.CreateWithParentsAsync(Keys.Leader, Bytes(memberName), ZkCreateMode.Ephemeral, c);
            }
            catch (ZooKeeperException e) when (e.Code == ZkError.NodeExists)
            {
                // A retried create may have succeeded the first time: ours if our session owns it.
                var existing = await client.GetDataAsync(Keys.Leader, false, c);
                if (existing is not { } n || n.Stat.EphemeralOwner != client.SessionId || Encoding.UTF8.GetString(n.Data) != memberName)
                    return false;
            }
            lock (gate) lockLostToExpiry = false;
            ZooKeeperLog.LeaderAcquired(logger, Keys.Leader, client.SessionId);
            return true;
        }, ct);

    public Task TakeLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("take leader", async c =>
        {
            await ReplaceLeaderAsync(c);
            lock (gate) lockLostToExpiry = false;
            return true;
        }, ct);

    /// <summary>Puts our ephemeral leader znode in place of whatever is there, atomically when something is.</summary>
    private async Task<bool> ReplaceLeaderAsync(CancellationToken ct)
    {
        var existing = await client.GetDataAsync(Keys.Leader, false, ct);
        if (existing is null)
        {
            try
            {
                await client.CreateWithParentsAsync(Keys.Leader, Bytes(memberName), ZkCreateMode.Ephemeral, ct);
                return true;
            }
            catch (ZooKeeperException e) when (e.Code == ZkError.NodeExists)
            {
                return false;
            }
        }
        var stat = existing.Value.Stat;
        if (stat.EphemeralOwner == client.SessionId && Encoding.UTF8.GetString(existing.Value.Data) == memberName) return true;
        var results = await client.MultiAsync(
            [new ZkOperation.Delete(Keys.Leader, stat.Version), new ZkOperation.Create(Keys.Leader, Bytes(memberName), ZkCreateMode.Ephemeral)], ct);
        return results.All(r => r.Error == ZkError.Ok);
    }

    public Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct) =>
        WithinRetryTimeoutAsync("renew leader", async c =>
        {
            lock (gate)
            {
                if (lockLostToExpiry)
                {
                    ZooKeeperLog.LeaderLostToExpiry(logger);
                    return false;
                }
            }
            // The session renews itself with pings; check that the znode is still ours and of this session.
            var existing = await client.GetDataAsync(Keys.Leader, watch, c);
            lock (gate)
            {
                // The session may have expired while we asked.
                if (lockLostToExpiry) return false;
            }
            if (existing is not { } node)
            {
                // Our session is alive but the znode is gone (a session restart on ttl change): create it again.
                return await ReplaceLeaderAsync(c);
            }
            if (Encoding.UTF8.GetString(node.Data) != memberName) return false;
            if (node.Stat.EphemeralOwner == client.SessionId) return true;
            ZooKeeperLog.LeaderRecreated(logger, node.Stat.EphemeralOwner, client.SessionId);
            var results = await client.MultiAsync(
                [new ZkOperation.Delete(Keys.Leader, node.Stat.Version), new ZkOperation.Create(Keys.Leader, Bytes(memberName), ZkCreateMode.Ephemeral)], c);
            return results.All(r => r.Error == ZkError.Ok);
        }, ct);

    public Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete leader", async c =>
        {
            if (lastLsn is { } lsn)
            {
                var json = DcsCodec.SerializeStatus(lsn, null);
                await PutAsync(Keys.Status, json, c);
                lock (gate) lastStatusJson = json;
            }
            var existing = await client.GetDataAsync(Keys.Leader, false, c);
            if (existing is not { } node || Encoding.UTF8.GetString(node.Data) != memberName) return false;
            try
            {
                await client.DeleteAsync(Keys.Leader, node.Stat.Version, c);
            }
            catch (ZooKeeperException e) when (e.Code is ZkError.NoNode or ZkError.BadVersion)
            {
                return false;
            }
            ZooKeeperLog.LeaderDeleted(logger, Keys.Leader);
            return true;
        }, ct);

    // ---- members and other keys ----

    public Task TouchMemberAsync(MemberData data, CancellationToken ct) =>
        WithinRetryTimeoutAsync("touch member", async c =>
        {
            var json = DcsCodec.SerializeMember(data);
            var path = Keys.Member(memberName);
            lock (gate)
            {
                if (json == lastMemberJson && lastMemberSession == client.SessionId && lastMemberSession != 0) return true;
            }
            var existing = await client.ExistsAsync(path, false, c);
            if (existing is not null && existing.EphemeralOwner == client.SessionId)
            {
                await client.SetDataAsync(path, Bytes(json), -1, c);
            }
            else
            {
                // Missing, or left by an older session of ours: it must become an ephemeral of this session.
                if (existing is not null)
                {
                    try
                    {
                        await client.DeleteAsync(path, -1, c);
                    }
                    catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
                    {
                    }
                }
                await client.CreateWithParentsAsync(path, Bytes(json), ZkCreateMode.Ephemeral, c);
            }
            lock (gate)
            {
                lastMemberJson = json;
                lastMemberSession = client.SessionId;
            }
            return true;
        }, ct);

    public Task<bool> InitializeAsync(bool create, string value, CancellationToken ct) =>
        WithinRetryTimeoutAsync("initialize", async c =>
        {
            if (!create)
            {
                await PutAsync(Keys.Initialize, value, c);
                return true;
            }
            try
            {
                await client.CreateWithParentsAsync(Keys.Initialize, Bytes(value), ZkCreateMode.Persistent, c);
                return true;
            }
            catch (ZooKeeperException e) when (e.Code == ZkError.NodeExists)
            {
                return false;
            }
        }, ct);

    public Task CancelInitializationAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("cancel initialization", async c =>
        {
            try
            {
                await client.DeleteAsync(Keys.Initialize, -1, c);
            }
            catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
            {
            }
            return true;
        }, ct);

    public Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Config, json, version, ct);

    public Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Failover, json, version, ct);

    /// <summary>Patroni on ZooKeeper never deletes sync: "deleting" it writes {}.</summary>
    public Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Sync, json ?? "{}", version, ct);

    public Task SetHistoryAsync(string json, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write history", async c =>
        {
            await PutAsync(Keys.History, json, c);
            return true;
        }, ct);

    public Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write status", async c =>
        {
            var json = DcsCodec.SerializeStatus(optime, slots);
            lock (gate)
            {
                if (json == lastStatusJson) return false;
            }
            await PutAsync(Keys.Status, json, c);
            lock (gate) lastStatusJson = json;
            return true;
        }, ct);

    public Task ResetSessionAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("reset session", async c =>
        {
            ForgetWrites();
            await client.RestartSessionAsync(c);
            return true;
        }, ct);

    public Task DeleteClusterAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete cluster", async c =>
        {
            await client.DeleteRecursiveAsync(basePath, c);
            return true;
        }, ct);

    /// <summary>Unconditional write of a persistent znode: set, or create (with parents) when missing.</summary>
    private async Task PutAsync(string path, string value, CancellationToken ct)
    {
        try
        {
            await client.SetDataAsync(path, Bytes(value), -1, ct);
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
            try
            {
                await client.CreateWithParentsAsync(path, Bytes(value), ZkCreateMode.Persistent, ct);
            }
            catch (ZooKeeperException again) when (again.Code == ZkError.NodeExists)
            {
                await client.SetDataAsync(path, Bytes(value), -1, ct);
            }
        }
    }

    private Task<bool> PutMaybeCasAsync(string path, string json, long? version, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write " + path, async c =>
        {
            if (version is null)
            {
                await PutAsync(path, json, c);
                return true;
            }
            try
            {
                await client.SetDataAsync(path, Bytes(json), checked((int)version.Value), c);
                return true;
            }
            catch (ZooKeeperException e) when (e.Code is ZkError.BadVersion or ZkError.NoNode)
            {
                return false;
            }
        }, ct);

    private void ForgetWrites()
    {
        lock (gate)
        {
            lastMemberJson = null;
            lastMemberSession = 0;
            lastStatusJson = null;
        }
    }

    /// <summary>
    /// Bounds an operation by retry_timeout, retrying it while the connection is down (kazoo's command retry);
    /// running out of time is a Timeout error.
    /// </summary>
    private async Task<T> WithinRetryTimeoutAsync<T>(string what, Func<CancellationToken, Task<T>> op, CancellationToken ct)
    {
        client.Start();
        var budget = RetryTimeout;
        using var deadline = new CancellationTokenSource(budget, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        Exception? last = null;
        try
        {
            while (true)
            {
                try
                {
                    return await op(linked.Token);
                }
                catch (Exception e) when (e is DcsException { Kind: DcsErrorKind.ConnectionRefused or DcsErrorKind.Timeout }
                                              or ZooKeeperException { Code: ZkError.ConnectionLoss or ZkError.SessionExpired or ZkError.OperationTimeout or ZkError.SessionMoved })
                {
                    last = e;
                    await Task.Delay(RetryPause, time, linked.Token);
                }
                catch (ZooKeeperException e)
                {
                    throw new DcsException(DcsErrorKind.Other, $"zookeeper: {what}: {e.Message}", e);
                }
            }
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            var why = last?.Message ?? $"no connection to any of {string.Join(",", client.Hosts)}";
            throw new DcsException(DcsErrorKind.Timeout, $"zookeeper: {what} did not finish within retry_timeout {budget.TotalSeconds:0.###} s ({why})", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        client.WatchFired -= OnWatch;
        client.SessionExpired -= OnSessionExpired;
        client.Connected -= OnConnected;
        await client.DisposeAsync();
    }
}
