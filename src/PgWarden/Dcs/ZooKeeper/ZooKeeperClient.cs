using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace PgWarden.Dcs.ZooKeeper;

/// <summary>
/// A small client of the ZooKeeper wire protocol: one TCP connection to one server of the ensemble at a time,
/// carrying one session. A background loop connects (resuming the session with its id and password on another
/// server when a connection breaks), pings while idle and gives up on a connection that stays silent for 2/3 of
/// the session timeout. Requests are pipelined and answered in order. Watch notifications, new sessions and
/// session expiry are raised as events; ephemeral znodes of an expired session are gone, so the owner of a
/// lock must treat <see cref="SessionExpired"/> as losing it.
/// </summary>
public sealed class ZooKeeperClient : IAsyncDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(250);

    private readonly ZooKeeperClientOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly List<string> hosts;
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private int nextHost;
    private int xid;
    private Task? runner;

    // Session state, guarded by gate.
    private long sessionId;
    private byte[] password = new byte[16];
    private long lastZxid;
    private int negotiatedTimeoutMs;
    private long sessionTimeoutTicks;
    private long lastHeard;
    private bool expiryReported;
    private bool restartRequested;
    private bool abandonSession;
    private int disposed;
    private Connection? connection;
    private TaskCompletionSource<Connection> connected = NewConnectedSignal();

    public ZooKeeperClient(ZooKeeperClientOptions options, TimeProvider time, ILogger logger)
    {
        if (options.Hosts.Count == 0) throw new ArgumentException("zookeeper: at least one host is needed", nameof(options));
        this.options = options;
        this.time = time;
        this.logger = logger;
        hosts = options.Hosts.Select(h => HostPortWithDefault(h)).Distinct().ToList();
        nextHost = Random.Shared.Next(hosts.Count);
        sessionTimeoutTicks = options.SessionTimeout.Ticks;
    }

    /// <summary>A watch fired (the watch is used up; set it again with the next read).</summary>
    public event Action<ZkWatchEvent>? WatchFired;

    /// <summary>The session is gone: the server said so, or no server was heard from for the whole session timeout.</summary>
    public event Action<long>? SessionExpired;

    /// <summary>A connection is up; true when it carries a new session (ephemeral znodes of the old one are gone).</summary>
    public event Action<bool>? Connected;

    public IReadOnlyList<string> Hosts => hosts;

    /// <summary>The current session id (0 before the first handshake and after an expiry).</summary>
    public long SessionId
    {
        get { lock (gate) return sessionId; }
    }

    /// <summary>The timeout the server granted (ms), 0 before the first handshake.</summary>
    public int NegotiatedTimeoutMs
    {
        get { lock (gate) return negotiatedTimeoutMs; }
    }

    public string? CurrentHost
    {
        get { lock (gate) return connection?.Host; }
    }

    /// <summary>The timeout the next new session asks for; a change takes effect with <see cref="RestartSessionAsync"/>.</summary>
    public TimeSpan SessionTimeout
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref sessionTimeoutTicks));
        set => Interlocked.Exchange(ref sessionTimeoutTicks, value.Ticks);
    }

    public static string HostPortWithDefault(string host)
    {
        var h = host.Trim();
        if (h.StartsWith('[')) return h.Contains("]:", StringComparison.Ordinal) ? h : h + ":2181";
        return h.Count(c => c == ':') == 1 ? h : h + ":2181";
    }

    public void Start()
    {
        lock (gate) runner ??= Task.Run(() => RunAsync(stop.Token));
    }

    // ---- operations ----

    public async Task<string> CreateAsync(string path, byte[] data, ZkCreateMode mode, CancellationToken ct)
    {
        var r = await CallAsync(ZkOp.Create, path, w => ZkRequests.Create(w, path, data, mode), ct);
        return r.ReadString() ?? path;
    }

    /// <summary>Create, making missing parents as persistent empty znodes first (kazoo's makepath=True).</summary>
    public async Task CreateWithParentsAsync(string path, byte[] data, ZkCreateMode mode, CancellationToken ct)
    {
        try
        {
            await CreateAsync(path, data, mode, ct);
            return;
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
        }
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var prefix = "";
        for (var i = 0; i < parts.Length - 1; i++)
        {
            prefix += "/" + parts[i];
            try
            {
                await CreateAsync(prefix, [], ZkCreateMode.Persistent, ct);
            }
            catch (ZooKeeperException e) when (e.Code == ZkError.NodeExists)
            {
            }
        }
        await CreateAsync(path, data, mode, ct);
    }

    public async Task DeleteAsync(string path, int version, CancellationToken ct) =>
        await CallAsync(ZkOp.Delete, path, w => ZkRequests.PathVersion(w, path, version), ct);

    /// <summary>The znode's stat, or null when it does not exist (the watch, if asked, then fires on its creation).</summary>
    public async Task<ZkStat?> ExistsAsync(string path, bool watch, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(ZkOp.Exists, path, w => ZkRequests.PathWatch(w, path, watch), ct);
            return r.ReadStat();
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
            return null;
        }
    }

    /// <summary>Data and stat, or null when the znode does not exist.</summary>
    public async Task<(byte[] Data, ZkStat Stat)?> GetDataAsync(string path, bool watch, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(ZkOp.GetData, path, w => ZkRequests.PathWatch(w, path, watch), ct);
            var data = r.ReadBuffer() ?? [];
            return (data, r.ReadStat());
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
            return null;
        }
    }

    /// <summary>Write the data if the znode's version is still version (-1: any version).</summary>
    public async Task<ZkStat> SetDataAsync(string path, byte[] data, int version, CancellationToken ct)
    {
        var r = await CallAsync(ZkOp.SetData, path, w => ZkRequests.SetData(w, path, data, version), ct);
        return r.ReadStat();
    }

    /// <summary>The children's names, or null when the znode does not exist.</summary>
    public async Task<IReadOnlyList<string>?> GetChildrenAsync(string path, bool watch, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(ZkOp.GetChildren, path, w => ZkRequests.PathWatch(w, path, watch), ct);
            return r.ReadStringVector();
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
            return null;
        }
    }

    /// <summary>Runs the operations as one transaction; the results say which one failed, if any.</summary>
    public async Task<IReadOnlyList<ZkOperationResult>> MultiAsync(IReadOnlyList<ZkOperation> ops, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(ZkOp.Multi, ops.Count > 0 ? ops[0].Path : "/", w => ZkRequests.Multi(w, ops), ct);
            return ZkRequests.ReadMultiResponse(r);
        }
        catch (ZooKeeperException e) when (e.Code is not (ZkError.SessionExpired or ZkError.ConnectionLoss or ZkError.OperationTimeout))
        {
            // Some servers put the first failure in the reply header instead of per-op results.
            return ops.Select(_ => new ZkOperationResult(ZkOp.Error, e.Code)).ToList();
        }
    }

    /// <summary>Deletes the znode and everything below it (children first).</summary>
    public async Task DeleteRecursiveAsync(string path, CancellationToken ct)
    {
        var children = await GetChildrenAsync(path, false, ct);
        if (children is null) return;
        foreach (var child in children) await DeleteRecursiveAsync(path.TrimEnd('/') + "/" + child, ct);
        try
        {
            await DeleteAsync(path, -1, ct);
        }
        catch (ZooKeeperException e) when (e.Code == ZkError.NoNode)
        {
        }
    }

    /// <summary>
    /// Closes the session (its ephemeral znodes are deleted at once) and lets the loop open a new one, with the
    /// current <see cref="SessionTimeout"/>.
    /// </summary>
    public async Task RestartSessionAsync(CancellationToken ct)
    {
        Connection? current;
        lock (gate)
        {
            current = connection;
            restartRequested = true;
        }
        if (current is not null) await CloseOnAsync(current, ct);
        lock (gate)
        {
            sessionId = 0;
            password = new byte[16];
            expiryReported = false;
        }
        current?.Abort("session restart");
    }

    private async Task CloseOnAsync(Connection current, CancellationToken ct)
    {
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(TimeSpan.FromSeconds(2));
            await current.SendAsync(NextXid(), ZkOp.CloseSession, "/", _ => { }, bounded.Token);
            ZooKeeperLog.SessionClosed(logger, current.SessionId);
        }
        catch (Exception e) when (e is DcsException or ZooKeeperException or OperationCanceledException or IOException or SocketException)
        {
        }
    }

    private int NextXid()
    {
        var id = Interlocked.Increment(ref xid);
        if (id <= 0)
        {
            Interlocked.CompareExchange(ref xid, 1, id);
            id = Interlocked.Increment(ref xid);
        }
        return id;
    }

    private async Task<JuteReader> CallAsync(int op, string path, Action<JuteWriter> body, CancellationToken ct)
    {
        Start();
        Task<Connection> ready;
        lock (gate) ready = connected.Task;
        // Waits for a connection for as long as the caller allows (the DCS bounds it by retry_timeout).
        var conn = await ready.WaitAsync(ct);
        return await conn.SendAsync(NextXid(), op, path, body, ct);
    }

    private static string OpName(int op) => op switch
    {
        ZkOp.Create => "create",
        ZkOp.Delete => "delete",
        ZkOp.Exists => "exists",
        ZkOp.GetData => "get",
        ZkOp.SetData => "set",
        ZkOp.GetChildren => "get_children",
        ZkOp.Multi => "multi",
        _ => "op " + op,
    };

    // ---- connection loop ----

    private static TaskCompletionSource<Connection> NewConnectedSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RunAsync(CancellationToken stopToken)
    {
        var failuresInRound = 0;
        while (!stopToken.IsCancellationRequested)
        {
            string host;
            lock (gate) host = hosts[nextHost++ % hosts.Count];
            Connection? conn = null;
            try
            {
                CheckLocalExpiry();
                conn = await HandshakeAsync(host, stopToken);
                if (conn is null)
                {
                    // The server said the session expired: open a new one at once, on the same server.
                    lock (gate) nextHost--;
                    continue;
                }
                failuresInRound = 0;
                await conn.RunAsync(stopToken);
            }
            catch (OperationCanceledException) when (stopToken.IsCancellationRequested)
            {
                conn?.Abort("client disposed");
                break;
            }
            catch (Exception e) when (e is IOException or SocketException or DcsException or OperationCanceledException or ObjectDisposedException)
            {
                // A connection that ends because we closed the session is no news.
                if (Volatile.Read(ref disposed) != 0 || Volatile.Read(ref restartRequested)) { }
                else if (conn is null) ZooKeeperLog.ConnectionFailed(logger, host, e.Message);
                else ZooKeeperLog.ConnectionLost(logger, host, e.Message);
                failuresInRound++;
            }
            finally
            {
                if (conn is not null)
                {
                    lock (gate)
                    {
                        if (connection == conn)
                        {
                            connection = null;
                            connected = NewConnectedSignal();
                        }
                    }
                    conn.Abort("connection closed");
                }
            }
            lock (gate)
            {
                if (restartRequested)
                {
                    restartRequested = false;
                    continue;
                }
            }
            if (failuresInRound >= hosts.Count)
            {
                failuresInRound = 0;
                try
                {
                    await Task.Delay(RoundPause, time, stopToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>No server heard from for a whole session timeout: the ensemble has expired the session by now.</summary>
    private void CheckLocalExpiry()
    {
        long expired = 0;
        lock (gate)
        {
            if (sessionId != 0 && negotiatedTimeoutMs > 0 && !expiryReported
                && time.GetElapsedTime(lastHeard) > TimeSpan.FromMilliseconds(negotiatedTimeoutMs))
            {
                expiryReported = true;
                // Reported lost, so it must be: close it on the next server rather than resume it.
                abandonSession = true;
                expired = sessionId;
            }
        }
        if (expired != 0)
        {
            ZooKeeperLog.SessionExpired(logger, expired, "no server answered within the session timeout");
            SessionExpired?.Invoke(expired);
        }
    }

    private async Task<Connection?> HandshakeAsync(string host, CancellationToken stopToken)
    {
        var (name, port) = SplitHost(host);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
        budget.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(name, port, budget.Token);
            var stream = new NetworkStream(socket, ownsSocket: true);
            long session, zxid;
            byte[] pw;
            int timeoutMs;
            lock (gate)
            {
                session = sessionId;
                pw = password;
                zxid = lastZxid;
                timeoutMs = (int)SessionTimeout.TotalMilliseconds;
            }
            var w = new JuteWriter();
            ZkRequests.Connect(w, zxid, timeoutMs, session, pw);
            await stream.WriteAsync(w.ToFrame(), budget.Token);
            var reply = await ReadFrameAsync(stream, budget.Token);
            var response = ZkRequests.ReadConnectResponse(new JuteReader(reply));
            if (response.TimeoutMs <= 0)
            {
                await stream.DisposeAsync();
                bool report;
                lock (gate)
                {
                    report = !expiryReported && sessionId != 0;
                    sessionId = 0;
                    password = new byte[16];
                    expiryReported = false;
                }
                ZooKeeperLog.SessionExpired(logger, session, "the server refused to resume it");
                if (report) SessionExpired?.Invoke(session);
                return null;
            }
            bool abandon;
            lock (gate)
            {
                abandon = abandonSession && response.SessionId == sessionId;
                abandonSession = false;
            }
            if (abandon)
            {
                // The session outlived our patience (we already reported it expired): end it, so its ephemeral
                // znodes go now instead of lingering as a lock nobody renews, and start a new one.
                var close = new JuteWriter().WriteInt(NextXid()).WriteInt(ZkOp.CloseSession).ToFrame();
                await stream.WriteAsync(close, budget.Token);
                await ReadFrameAsync(stream, budget.Token);
                await stream.DisposeAsync();
                lock (gate)
                {
                    sessionId = 0;
                    password = new byte[16];
                    expiryReported = false;
                }
                ZooKeeperLog.SessionClosed(logger, response.SessionId);
                return null;
            }
            var conn = new Connection(this, host, socket, stream, response.SessionId, response.TimeoutMs);
            bool isNew;
            long previous;
            lock (gate)
            {
                previous = sessionId;
                isNew = sessionId != response.SessionId;
                sessionId = response.SessionId;
                password = response.Password;
                negotiatedTimeoutMs = response.TimeoutMs;
                lastHeard = time.GetTimestamp();
                if (isNew) expiryReported = false;
                connection = conn;
                connected.TrySetResult(conn);
            }
            ZooKeeperLog.Connected(logger, response.SessionId, host, response.TimeoutMs, isNew ? "new session" : "resumed");
            if (isNew && previous != 0) SessionExpired?.Invoke(previous);
            Connected?.Invoke(isNew);
            return conn;
        }
        catch (OperationCanceledException) when (!stopToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new DcsException(DcsErrorKind.Timeout, $"zookeeper: no handshake from {host} within {options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static (string Host, int Port) SplitHost(string hostPort)
    {
        var cut = hostPort.LastIndexOf(':');
        return (hostPort[..cut].Trim('[', ']'), int.Parse(hostPort[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    internal static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, ct);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length < 0 || length > 64 * 1024 * 1024)
            throw new DcsException(DcsErrorKind.Protocol, $"zookeeper: bad packet length {length}");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, ct);
        return body;
    }

    private void Heard(long zxid)
    {
        lock (gate)
        {
            lastHeard = time.GetTimestamp();
            if (zxid > lastZxid) lastZxid = zxid;
        }
    }

    private void OnWatch(ZkWatchEvent e)
    {
        ZooKeeperLog.WatchFired(logger, e.Type, e.Path);
        WatchFired?.Invoke(e);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        Connection? current;
        lock (gate) current = connection;
        if (current is not null) await CloseOnAsync(current, CancellationToken.None);
        await stop.CancelAsync();
        current?.Abort("client disposed");
        if (runner is not null)
        {
            try
            {
                await runner;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }
        }
        stop.Dispose();
    }

    /// <summary>One TCP connection of a session: pending requests by xid, the receive loop and the ping timer.</summary>
    private sealed class Connection(ZooKeeperClient owner, string host, Socket socket, NetworkStream stream, long sessionId, int timeoutMs)
    {
        private sealed record Pending(int Op, string Path, TaskCompletionSource<JuteReader> Reply);

        private readonly Dictionary<int, Pending> pending = [];
        private readonly SemaphoreSlim sendLock = new(1, 1);
        private readonly CancellationTokenSource aborted = new();
        private long lastSent = owner.time.GetTimestamp();
        private long lastReceived = owner.time.GetTimestamp();
        private string? abortReason;

        public string Host { get; } = host;
        public long SessionId { get; } = sessionId;
        private TimeSpan ReadTimeout => TimeSpan.FromMilliseconds(timeoutMs * 2.0 / 3);
        private TimeSpan PingInterval => TimeSpan.FromMilliseconds(timeoutMs / 3.0);

        public async Task<JuteReader> SendAsync(int xid, int op, string path, Action<JuteWriter> body, CancellationToken ct)
        {
            var w = new JuteWriter().WriteInt(xid).WriteInt(op);
            body(w);
            var frame = w.ToFrame();
            var reply = new TaskCompletionSource<JuteReader>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (pending)
            {
                if (abortReason is not null) throw Lost(op, path);
                pending[xid] = new Pending(op, path, reply);
            }
            await WriteAsync(frame, ct);
            return await reply.Task.WaitAsync(ct);
        }

        private DcsException Lost(int op, string path) =>
            new(DcsErrorKind.ConnectionRefused, $"zookeeper: connection to {Host} lost ({abortReason}) during {OpName(op)} {path}");

        private async Task WriteAsync(byte[] frame, CancellationToken ct)
        {
            await sendLock.WaitAsync(ct);
            try
            {
                await stream.WriteAsync(frame, ct);
                Interlocked.Exchange(ref lastSent, owner.time.GetTimestamp());
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                Abort(e.Message);
                throw new DcsException(DcsErrorKind.ConnectionRefused, $"zookeeper: write to {Host} failed: {e.Message}", e);
            }
            finally
            {
                sendLock.Release();
            }
        }

        public async Task RunAsync(CancellationToken stopToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopToken, aborted.Token);
            var timer = TickAsync(linked.Token);
            try
            {
                while (true)
                {
                    var frame = await ReadFrameAsync(stream, linked.Token);
                    Interlocked.Exchange(ref lastReceived, owner.time.GetTimestamp());
                    Dispatch(new JuteReader(frame));
                }
            }
            finally
            {
                Abort(abortReason ?? "receive loop ended");
                await linked.CancelAsync();
                try
                {
                    await timer;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        private void Dispatch(JuteReader r)
        {
            var replyXid = r.ReadInt();
            var zxid = r.ReadLong();
            var err = (ZkError)r.ReadInt();
            owner.Heard(zxid);
            if (replyXid == ZkXid.Ping) return;
            if (replyXid == ZkXid.Notification)
            {
                owner.OnWatch(ZkRequests.ReadWatchEvent(r));
                return;
            }
            Pending? p;
            lock (pending)
            {
                if (!pending.Remove(replyXid, out p)) return;
            }
            if (err != ZkError.Ok) p.Reply.TrySetException(new ZooKeeperException(err, p.Path));
            else p.Reply.TrySetResult(r);
        }

        /// <summary>Pings while idle; gives the connection up when the server has been silent too long.</summary>
        private async Task TickAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(TickInterval, owner.time, ct);
                if (owner.time.GetElapsedTime(Interlocked.Read(ref lastReceived)) > ReadTimeout)
                {
                    Abort($"no answer for {ReadTimeout.TotalSeconds:0.#} s");
                    return;
                }
                if (owner.time.GetElapsedTime(Interlocked.Read(ref lastSent)) > PingInterval)
                {
                    var ping = new JuteWriter().WriteInt(ZkXid.Ping).WriteInt(ZkOp.Ping).ToFrame();
                    try
                    {
                        await WriteAsync(ping, ct);
                    }
                    catch (DcsException)
                    {
                        return;
                    }
                }
            }
        }

        public void Abort(string reason)
        {
            List<Pending> failed;
            lock (pending)
            {
                if (abortReason is not null) return;
                abortReason = reason;
                failed = pending.Values.ToList();
                pending.Clear();
            }
            try
            {
                aborted.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            stream.Dispose();
            foreach (var p in failed) p.Reply.TrySetException(Lost(p.Op, p.Path));
        }
    }
}
