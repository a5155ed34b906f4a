using System.Globalization;
using Microsoft.Extensions.Logging;
using PgWarden.Dcs.Etcd3;
using PgWarden.Dcs.EtcdV2;
using PgWarden.Dcs.ZooKeeper;

namespace PgWarden.Dcs;

/// <summary>
/// The etcd v2 DCS (Patroni's etcd: section, compat §1.5): keys under /v2/keys/&lt;namespace&gt;/&lt;scope&gt;. The leader
/// and member keys carry ttl=&lt;ttl&gt; and are rewritten every cycle (there is no lease: the TTL is the session).
/// Acquire is prevExist=false, renewal prevValue=&lt;name&gt; (creating the key again if it expired), delete
/// prevValue=&lt;name&gt;, config/failover/sync compare-and-set prevIndex=&lt;modifiedIndex&gt;. The whole cluster is
/// one recursive GET (quorum=true for the CLI). The HA loop waits with a long poll (wait=true, recursive,
/// waitIndex after the last read) that returns on a change of leader, config or failover. The client is owned.
/// </summary>
public sealed class EtcdV2Dcs : IDcs
{
    private readonly EtcdV2Client client;
    private readonly string memberName;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly bool watch;

    private int ttl = 30;
    private int retryTimeout = 10;
    private long lastIndex;
    private string? lastStatusJson;

    public EtcdV2Dcs(EtcdV2Client client, string @namespace, string scope, string memberName, TimeProvider time, ILogger logger, bool watch = true)
    {
        this.client = client;
        this.memberName = memberName;
        this.time = time;
        this.logger = logger;
        this.watch = watch;
        Keys = new DcsKeys(@namespace, scope);
    }

    public static EtcdV2Dcs ForCli(EtcdV2Client client, string @namespace, string scope, TimeProvider time, ILogger logger) =>
        new(client, @namespace, scope, memberName: "", time, logger, watch: false);

    public DcsKeys Keys { get; }

    public void Configure(int ttl, int loopWait, int retryTimeout)
    {
        if (ttl <= 0 || loopWait <= 0 || retryTimeout <= 0)
            throw new ArgumentException($"ttl/loop_wait/retry_timeout must be positive, got {ttl}/{loopWait}/{retryTimeout}");
        Volatile.Write(ref this.ttl, ttl);
        Volatile.Write(ref this.retryTimeout, retryTimeout);
        client.RequestTimeout = TimeSpan.FromSeconds(Math.Max(1.0, retryTimeout / (double)client.Endpoints.Count));
    }

    private string Ttl => Volatile.Read(ref ttl).ToString(CultureInfo.InvariantCulture);

    // ---- reads ----

    public Task<ClusterView> GetClusterAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("read cluster", async c =>
        {
            var query = new Dictionary<string, string> { ["recursive"] = "true" };
            if (!watch) query["quorum"] = "true";
            var r = await client.GetAsync(Keys.Base, query, c);
            Interlocked.Exchange(ref lastIndex, r.EtcdIndex);
            if (r.ErrorCode == EtcdV2Response.KeyNotFound) return DcsCodec.ParseCluster(Keys, [], r.EtcdIndex);
            Check(r, "read cluster");
            var kvs = r.Node!.Leaves().Select(n => new Etcd3KeyValue(n.Key, n.Value ?? "", n.CreatedIndex, n.ModifiedIndex, n.ModifiedIndex, 0));
            return DcsCodec.ParseCluster(Keys, kvs, r.EtcdIndex);
        }, ct);

    /// <summary>Long-polls the cluster directory from just after the last read until leader, config or failover change.</summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!watch)
        {
            await Task.Delay(timeout, time, ct);
            return false;
        }
        var started = time.GetTimestamp();
        var waitIndex = Interlocked.Read(ref lastIndex) + 1;
        while (true)
        {
            var left = timeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return false;
            var query = new Dictionary<string, string>
            {
                ["wait"] = "true", ["recursive"] = "true", ["waitIndex"] = waitIndex.ToString(CultureInfo.InvariantCulture),
            };
            EtcdV2Response? r;
            try
            {
                r = await client.WaitAsync(Keys.Base, query, left, ct);
            }
            catch (DcsException e)
            {
                ZooKeeperLog.EtcdV2Watch(logger, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, left.TotalMilliseconds)), time, ct);
                continue;
            }
            if (r is null) return false;
            if (r.ErrorCode == EtcdV2Response.EventIndexCleared)
            {
                // Too far behind etcd's 1000-event window: something surely changed; let the loop re-read.
                ZooKeeperLog.EtcdV2Watch(logger, $"waitIndex {waitIndex} was cleared ({r.Message})");
                return true;
            }
            if (!r.Ok || r.Node is null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, left.TotalMilliseconds)), time, ct);
                continue;
            }
            var key = r.Node.Key;
            if (key == Keys.Leader || key == Keys.Config || key == Keys.Failover) return true;
            waitIndex = r.Node.ModifiedIndex + 1;
        }
    }

    // ---- leader ----

    public Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("acquire leader", async c =>
        {
            var r = await client.PutAsync(Keys.Leader, new Dictionary<string, string> { ["value"] = memberName, ["ttl"] = Ttl, ["prevExist"] = "false" }, c);
            if (r.ErrorCode == EtcdV2Response.NodeExist) return false;
            Check(r, "acquire leader");
            ZooKeeperLog.EtcdV2LeaderAcquired(logger, Keys.Leader);
            return true;
        }, ct);

    public Task TakeLeaderAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("take leader", async c =>
        {
            Check(await client.PutAsync(Keys.Leader, new Dictionary<string, string> { ["value"] = memberName, ["ttl"] = Ttl }, c), "take leader");
            return true;
        }, ct);

    public Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct) =>
        WithinRetryTimeoutAsync("renew leader", async c =>
        {
            var r = await client.PutAsync(Keys.Leader, new Dictionary<string, string> { ["value"] = memberName, ["ttl"] = Ttl, ["prevValue"] = memberName }, c);
            if (r.ErrorCode == EtcdV2Response.CompareFailed) return false;
            if (r.ErrorCode == EtcdV2Response.KeyNotFound)
            {
                // Expired between two renewals: take it again if nobody else did (Patroni does the same).
                r = await client.PutAsync(Keys.Leader, new Dictionary<string, string> { ["value"] = memberName, ["ttl"] = Ttl, ["prevExist"] = "false" }, c);
                if (r.ErrorCode == EtcdV2Response.NodeExist) return false;
            }
            Check(r, "renew leader");
            return true;
        }, ct);

    public Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete leader", async c =>
        {
            if (lastLsn is { } lsn)
            {
                var json = DcsCodec.SerializeStatus(lsn, null);
                Check(await client.PutAsync(Keys.Status, new Dictionary<string, string> { ["value"] = json }, c), "write status");
                lastStatusJson = json;
            }
            var r = await client.DeleteAsync(Keys.Leader, new Dictionary<string, string> { ["prevValue"] = memberName }, c);
            if (r.ErrorCode is EtcdV2Response.CompareFailed or EtcdV2Response.KeyNotFound) return false;
            Check(r, "delete leader");
            ZooKeeperLog.EtcdV2LeaderDeleted(logger, Keys.Leader);
            return true;
        }, ct);

    // ---- members and other keys ----

    /// <summary>Written every cycle: the write is what refreshes the member key's TTL.</summary>
    public Task TouchMemberAsync(MemberData data, CancellationToken ct) =>
        WithinRetryTimeoutAsync("touch member", async c =>
        {
            var json = DcsCodec.SerializeMember(data);
            Check(await client.PutAsync(Keys.Member(memberName), new Dictionary<string, string> { ["value"] = json, ["ttl"] = Ttl }, c), "touch member");
            return true;
        }, ct);

    public Task<bool> InitializeAsync(bool create, string value, CancellationToken ct) =>
        WithinRetryTimeoutAsync("initialize", async c =>
        {
            var form = new Dictionary<string, string> { ["value"] = value };
            if (create) form["prevExist"] = "false";
            var r = await client.PutAsync(Keys.Initialize, form, c);
            if (create && r.ErrorCode == EtcdV2Response.NodeExist) return false;
            Check(r, "initialize");
            return true;
        }, ct);

    public Task CancelInitializationAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("cancel initialization", async c =>
        {
            var r = await client.DeleteAsync(Keys.Initialize, null, c);
            if (r.ErrorCode != EtcdV2Response.KeyNotFound) Check(r, "cancel initialization");
            return true;
        }, ct);

    public Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Config, json, version, ct);

    public Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct) => PutMaybeCasAsync(Keys.Failover, json, version, ct);

    public Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct)
    {
        if (json is not null) return PutMaybeCasAsync(Keys.Sync, json, version, ct);
        return WithinRetryTimeoutAsync("delete sync", async c =>
        {
            var query = version is { } v ? new Dictionary<string, string> { ["prevIndex"] = v.ToString(CultureInfo.InvariantCulture) } : null;
            var r = await client.DeleteAsync(Keys.Sync, query, c);
            if (r.ErrorCode is EtcdV2Response.CompareFailed) return false;
            if (r.ErrorCode == EtcdV2Response.KeyNotFound) return version is null;
            Check(r, "delete sync");
            return true;
        }, ct);
    }

    public Task SetHistoryAsync(string json, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write history", async c =>
        {
            Check(await client.PutAsync(Keys.History, new Dictionary<string, string> { ["value"] = json }, c), "write history");
            return true;
        }, ct);

    public Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write status", async c =>
        {
            var json = DcsCodec.SerializeStatus(optime, slots);
            if (json == lastStatusJson) return false;
            Check(await client.PutAsync(Keys.Status, new Dictionary<string, string> { ["value"] = json }, c), "write status");
            lastStatusJson = json;
            return true;
        }, ct);

    /// <summary>There is no session to reset: the next writes carry the new TTL.</summary>
    public Task ResetSessionAsync(CancellationToken ct) => Task.CompletedTask;

    public Task DeleteClusterAsync(CancellationToken ct) =>
        WithinRetryTimeoutAsync("delete cluster", async c =>
        {
            var r = await client.DeleteAsync(Keys.Base, new Dictionary<string, string> { ["recursive"] = "true" }, c);
            if (r.ErrorCode != EtcdV2Response.KeyNotFound) Check(r, "delete cluster");
            return true;
        }, ct);

    private Task<bool> PutMaybeCasAsync(string key, string json, long? version, CancellationToken ct) =>
        WithinRetryTimeoutAsync("write " + key, async c =>
        {
            var form = new Dictionary<string, string> { ["value"] = json };
            if (version is { } v) form["prevIndex"] = v.ToString(CultureInfo.InvariantCulture);
            var r = await client.PutAsync(key, form, c);
            if (version is not null && r.ErrorCode is EtcdV2Response.CompareFailed or EtcdV2Response.KeyNotFound) return false;
            Check(r, "write " + key);
            return true;
        }, ct);

    private static void Check(EtcdV2Response r, string what)
    {
        if (r.Ok) return;
        var kind = r.Status switch
        {
            System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden => DcsErrorKind.AuthFailed,
            _ when (int)r.Status >= 500 => DcsErrorKind.NoLeader,
            _ => DcsErrorKind.Other,
        };
        throw new DcsException(kind, $"etcd: {what}: HTTP {(int)r.Status} errorCode {r.ErrorCode} {r.Message}");
    }

    private async Task<T> WithinRetryTimeoutAsync<T>(string what, Func<CancellationToken, Task<T>> op, CancellationToken ct)
    {
        var budget = TimeSpan.FromSeconds(Volatile.Read(ref retryTimeout));
        using var deadline = new CancellationTokenSource(budget, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            return await op(linked.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new DcsException(DcsErrorKind.Timeout, $"etcd: {what} did not finish within retry_timeout {budget.TotalSeconds:0.###} s", e);
        }
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
