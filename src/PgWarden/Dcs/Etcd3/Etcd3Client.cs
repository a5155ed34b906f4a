using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace PgWarden.Dcs.Etcd3;

/// <summary>
/// etcd v3 over its JSON HTTP gateway (what Patroni speaks; no gRPC). Every unary call runs within a total
/// budget of RetryTimeout: it starts at the current endpoint and, on connection failure, timeout or an
/// "unavailable" answer, moves on to the next, each attempt limited to RetryTimeout / endpoints (at least 1 s).
/// </summary>
public sealed class Etcd3Client : IDisposable
{
    private static readonly TimeSpan MinPerRequest = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan NoLeaderProbeTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Etcd3ClientOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpClient http;
    private readonly SemaphoreSlim initLock = new(1, 1);
    private readonly SemaphoreSlim authLock = new(1, 1);
    private readonly Lock gate = new();
    private readonly List<string> endpoints;
    private int current;
    private long retryTimeoutTicks;
    private volatile string? apiPrefix;
    private volatile string? token;

    public Etcd3Client(Etcd3ClientOptions options, TimeProvider time, ILogger logger)
    {
        if (options.Endpoints.Count == 0) throw new ArgumentException("etcd3: at least one endpoint is needed", nameof(options));
        this.options = options;
        this.time = time;
        this.logger = logger;
        endpoints = options.Endpoints.Select(NormalizeEndpoint).Distinct().ToList();
        retryTimeoutTicks = options.RetryTimeout.Ticks;
        http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            UseProxy = false,
            AllowAutoRedirect = false,
            SslOptions = Etcd3Tls.ClientOptions(options),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
    }

    /// <summary>Raised with the new endpoint when a failure moves the client on (a watch there should restart).</summary>
    public event Action<string>? EndpointChanged;

    public TimeSpan RetryTimeout
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref retryTimeoutTicks));
        set => Interlocked.Exchange(ref retryTimeoutTicks, Math.Max(value.Ticks, MinPerRequest.Ticks));
    }

    public IReadOnlyList<string> Endpoints
    {
        get { lock (gate) return endpoints.ToList(); }
    }

    public string CurrentEndpoint
    {
        get { lock (gate) return endpoints[current]; }
    }

    /// <summary>"/v3", "/v3beta" or "/v3alpha" once detected; null before the first call.</summary>
    public string? ApiPrefix => apiPrefix;

    public static string NormalizeEndpoint(string endpoint)
    {
        var e = endpoint.Trim().TrimEnd('/');
        if (!e.Contains("://", StringComparison.Ordinal)) e = "http://" + e;
        var uri = new Uri(e);
        return uri.IsDefaultPort && !e[(e.IndexOf("://", StringComparison.Ordinal) + 3)..].Contains(':')
            ? $"{uri.Scheme}://{uri.Host}:2379"
            : $"{uri.Scheme}://{uri.Authority}";
    }

    /// <summary>The prefix for an etcd cluster version: ≥3.4 → /v3, 3.3 → /v3beta, older → /v3alpha.</summary>
    public static string ApiPrefixFor(string clusterVersion)
    {
        var parts = clusterVersion.Split('.');
        if (parts.Length < 2 || !int.TryParse(parts[0], out var major) || !int.TryParse(parts[1], out var minor)) return "/v3";
        if (major > 3 || (major == 3 && minor >= 4)) return "/v3";
        return minor == 3 ? "/v3beta" : "/v3alpha";
    }

    // ---- KV ----

    public async Task<Etcd3RangeResult> GetAsync(string key, bool serializable, CancellationToken ct)
    {
        var body = new JsonObject { ["key"] = Etcd3Json.ToBase64(key) };
        if (serializable) body["serializable"] = true;
        return Etcd3RangeResult.Parse(await CallAsync("/kv/range", body, ct));
    }

    public async Task<Etcd3RangeResult> GetPrefixAsync(string prefix, bool serializable, CancellationToken ct)
    {
        var body = new JsonObject { ["key"] = Etcd3Json.ToBase64(prefix), ["range_end"] = Etcd3Json.PrefixEndBase64(prefix) };
        if (serializable) body["serializable"] = true;
        return Etcd3RangeResult.Parse(await CallAsync("/kv/range", body, ct));
    }

    public async Task<Etcd3Header> PutAsync(string key, string value, long lease, CancellationToken ct)
    {
        var node = await CallAsync("/kv/put", Etcd3Txn.PutBody(key, value, lease), ct);
        return Etcd3Header.Parse(node["header"]);
    }

    /// <summary>Deletes one key; returns how many keys were deleted.</summary>
    public async Task<long> DeleteAsync(string key, CancellationToken ct)
    {
        var node = await CallAsync("/kv/deleterange", new JsonObject { ["key"] = Etcd3Json.ToBase64(key) }, ct);
        return Etcd3Json.ReadInt64(node["deleted"]);
    }

    public async Task<long> DeletePrefixAsync(string prefix, CancellationToken ct)
    {
        var body = new JsonObject { ["key"] = Etcd3Json.ToBase64(prefix), ["range_end"] = Etcd3Json.PrefixEndBase64(prefix) };
        return Etcd3Json.ReadInt64((await CallAsync("/kv/deleterange", body, ct))["deleted"]);
    }

    /// <summary>Build compares and ops with <see cref="Etcd3Txn"/>.</summary>
    public async Task<Etcd3TxnResult> TxnAsync(
        IEnumerable<JsonObject> compare, IEnumerable<JsonObject> success, IEnumerable<JsonObject>? failure, CancellationToken ct) =>
        Etcd3TxnResult.Parse(await CallAsync("/kv/txn", Etcd3Txn.Body(compare, success, failure), ct));

    // ---- leases ----

    public async Task<Etcd3Lease> LeaseGrantAsync(long ttlSeconds, CancellationToken ct)
    {
        var node = await CallAsync("/lease/grant", new JsonObject { ["TTL"] = ttlSeconds }, ct);
        var id = Etcd3Json.ReadInt64(node["ID"]);
        if (id == 0)
            throw new DcsException(DcsErrorKind.Protocol, $"etcd lease grant answered without an ID: {node.ToJsonString()}");
        return new Etcd3Lease(id, Etcd3Json.ReadInt64(node["TTL"]));
    }

    /// <summary>Refreshes a lease; returns its TTL, or null when the lease has expired (no result.TTL).</summary>
    public async Task<long?> LeaseKeepAliveAsync(long leaseId, CancellationToken ct)
    {
        var node = await CallAsync("/lease/keepalive", new JsonObject { ["ID"] = Etcd3Json.Int64String(leaseId) }, ct);
        var ttl = Etcd3Json.ReadInt64(node["result"]?["TTL"]);
        return ttl > 0 ? ttl : null;
    }

    /// <summary>Revokes a lease (and deletes its keys); an already-gone lease is not an error.</summary>
    public async Task LeaseRevokeAsync(long leaseId, CancellationToken ct)
    {
        try
        {
            await CallAsync("/lease/revoke", new JsonObject { ["ID"] = Etcd3Json.Int64String(leaseId) }, ct);
        }
        catch (DcsException e) when (e.Kind == DcsErrorKind.LeaseNotFound)
        {
        }
    }

    // ---- cluster ----

    /// <summary>Every clientURL of every member.</summary>
    public async Task<IReadOnlyList<string>> MemberClientUrlsAsync(CancellationToken ct)
    {
        var node = await CallAsync("/cluster/member/list", new JsonObject(), ct);
        return (node["members"] as JsonArray ?? [])
            .SelectMany(m => m?["clientURLs"] as JsonArray ?? [])
            .Select(u => u?.GetValue<string>())
            .Where(u => !string.IsNullOrEmpty(u))
            .Select(u => u!)
            .ToList();
    }

    // ---- watch ----

    /// <summary>
    /// Watches every key under prefix from startRevision on the current endpoint. The stream ends (or throws a
    /// DcsException) when the connection goes; a canceled watch is yielded with Canceled set and then ends.
    /// </summary>
    public async IAsyncEnumerable<Etcd3WatchResponse> WatchPrefixAsync(
        string prefix, long startRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        var endpoint = CurrentEndpoint;
        var body = new JsonObject
        {
            ["create_request"] = new JsonObject
            {
                ["key"] = Etcd3Json.ToBase64(prefix),
                ["range_end"] = Etcd3Json.PrefixEndBase64(prefix),
                ["start_revision"] = Etcd3Json.Int64String(startRevision),
            },
        };
        var deadline = time.GetTimestamp();
        await EnsureInitializedAsync(deadline, ct);
        using var request = BuildRequest(HttpMethod.Post, endpoint + apiPrefix + "/watch", body, useToken: true);
        HttpResponseMessage response;
        using (var connectTimeout = new CancellationTokenSource(PerRequestTimeout(RetryTimeout), time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, connectTimeout.Token))
        {
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            }
            catch (Exception e) when (e is HttpRequestException or IOException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                throw Etcd3ErrorClassifier.ClassifyTransport(e, connectTimeout.IsCancellationRequested).ToException(endpoint, e);
            }
        }
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                throw Etcd3ErrorClassifier.ClassifyBody(response.StatusCode, text).ToException(endpoint);
            }
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var messages = JsonObjectSplitter.ReadAllAsync(stream, ct).GetAsyncEnumerator(ct);
            try
            {
                while (true)
                {
                    JsonNode message;
                    try
                    {
                        if (!await messages.MoveNextAsync()) yield break;
                        message = messages.Current;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        throw Etcd3ErrorClassifier.ClassifyTransport(e, false).ToException(endpoint, e);
                    }
                    if (message["error"] is not null)
                        throw Etcd3ErrorClassifier.ClassifyBody(HttpStatusCode.OK, message.ToJsonString()).ToException(endpoint);
                    if (message["result"] is not { } result) continue;
                    var parsed = Etcd3WatchResponse.Parse(result);
                    if (parsed.Canceled && parsed.CancelReason is { } reason
                        && Etcd3ErrorClassifier.ClassifyMessage(-1, reason).Recovery == Etcd3Recovery.Reauthenticate)
                    {
                        // The next unary call re-authenticates before the watch is opened again.
                        token = null;
                    }
                    yield return parsed;
                    if (parsed.Canceled) yield break;
                }
            }
            finally
            {
                await messages.DisposeAsync();
            }
        }
    }

    // ---- plumbing ----

    /// <summary>POSTs body to prefix+path, with failover across endpoints within RetryTimeout.</summary>
    public async Task<JsonNode> CallAsync(string path, JsonObject body, CancellationToken ct)
    {
        var start = time.GetTimestamp();
        await EnsureInitializedAsync(start, ct);
        var reauthenticated = false;
        while (true)
        {
            try
            {
                return await RunWithFailoverAsync(start, ep => (HttpMethod.Post, ep + apiPrefix + path, body, true), ct);
            }
            catch (DcsReauthenticateException e)
            {
                if (options.Username is null)
                    throw new DcsException(DcsErrorKind.AuthFailed, $"etcd wants authentication and no etcd3.username is set: {e.Message}", e);
                // A fresh token did not help: the user lost its role or permission while we ran.
                if (reauthenticated)
                    throw new DcsException(DcsErrorKind.AuthFailed, $"etcd refused user {options.Username} with a fresh token: {e.Message}", e);
                reauthenticated = true;
                logger.LogInformation("etcd asked for authentication ({Reason}); authenticating again", e.Message);
                await AuthenticateAsync(start, ct);
            }
        }
    }

    private TimeSpan PerRequestTimeout(TimeSpan budget)
    {
        int n;
        lock (gate) n = endpoints.Count;
        var share = budget / n;
        return share < MinPerRequest ? MinPerRequest : share;
    }

    private (DcsErrorKind Kind, long At)? _lastFailure;

    /// <summary>
    /// The most telling failure kind the client classified since the given timestamp (NoLeader, then AuthFailed, then
    /// ConnectionRefused); null when none. A caller whose own deadline fired first reports this instead of a bare
    /// Timeout, so failsafe logic and operators see why etcd did not answer.
    /// </summary>
    public DcsErrorKind? FailureKindSince(long timestamp)
    {
        lock (gate) return _lastFailure is { } f && f.At >= timestamp ? f.Kind : null;
    }

    private static int Rank(DcsErrorKind kind) => kind switch
    {
        DcsErrorKind.NoLeader => 3,
        DcsErrorKind.AuthFailed => 2,
        DcsErrorKind.ConnectionRefused => 1,
        _ => 0,
    };

    private void RecordFailure(DcsErrorKind kind)
    {
        if (Rank(kind) == 0) return;
        var now = time.GetTimestamp();
        lock (gate)
        {
            // Within one operation keep the most telling kind; a newer operation starts afresh.
            if (_lastFailure is { } f && Rank(f.Kind) > Rank(kind) && time.GetElapsedTime(f.At) < RetryTimeout) return;
            _lastFailure = (kind, now);
        }
    }

    private (string Endpoint, DcsErrorKind Kind, long At)? _lastLoggedFailure;
    private static readonly TimeSpan RepeatWarningEvery = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An outage fails every request every 200 ms: warn when the endpoint or the kind of failure changes, or every
    /// 30 s while it lasts, so the log shows the outage without burying what the agent decided because of it.
    /// </summary>
    private void LogEndpointFailure(string endpoint, Etcd3Error error)
    {
        bool warn;
        lock (gate)
        {
            warn = _lastLoggedFailure is not { } l || l.Endpoint != endpoint || l.Kind != error.Kind
                   || time.GetElapsedTime(l.At) >= RepeatWarningEvery;
            if (warn) _lastLoggedFailure = (endpoint, error.Kind, time.GetTimestamp());
        }
        if (warn) logger.LogWarning("etcd {Endpoint}: {Kind}: {Message}; trying the next endpoint", endpoint, error.Kind, error.Message);
        else logger.LogDebug("etcd {Endpoint}: {Kind}: {Message}; trying the next endpoint", endpoint, error.Kind, error.Message);
    }

    private async Task<JsonNode> RunWithFailoverAsync(
        long start, Func<string, (HttpMethod Method, string Url, JsonObject? Body, bool UseToken)> build, CancellationToken ct)
    {
        var budget = RetryTimeout;
        Etcd3Error? last = null;
        string lastEndpoint = CurrentEndpoint;
        Exception? lastException = null;
        var sawNoLeader = false;
        var attempts = 0;
        while (true)
        {
            var remaining = budget - time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero) break;
            var perRequest = PerRequestTimeout(budget);
            // Keep room for the /health probe that tells "no leader" from "hung" after a timeout.
            var room = remaining > 2 * NoLeaderProbeTimeout ? remaining - NoLeaderProbeTimeout : remaining;
            var truncated = perRequest > room;
            if (truncated) perRequest = room;
            var endpoint = CurrentEndpoint;
            var (method, url, body, useToken) = build(endpoint);
            var (node, error, exception) = await SendOnceAsync(method, url, body, useToken, perRequest, ct);
            if (node is not null)
            {
                if (_lastLoggedFailure is not null) lock (gate) _lastLoggedFailure = null;
                return node;
            }
            if (error!.Kind == DcsErrorKind.Timeout && await HasNoLeaderAsync(endpoint, start, budget, ct))
                error = error with { Kind = DcsErrorKind.NoLeader, Message = error.Message + " (the member reports no raft leader)" };
            // An attempt cut short by the end of the budget says less than the error before it.
            if (truncated && error.Kind == DcsErrorKind.Timeout && last is not null && error.Recovery == Etcd3Recovery.NextEndpoint)
                break;
            last = error;
            lastEndpoint = endpoint;
            lastException = exception;
            switch (error!.Recovery)
            {
                case Etcd3Recovery.Fail:
                    throw error.ToException(endpoint, exception);
                case Etcd3Recovery.Reauthenticate:
                    throw new DcsReauthenticateException(error.Message);
            }
            sawNoLeader |= error.Kind == DcsErrorKind.NoLeader;
            RecordFailure(error.Kind);
            LogEndpointFailure(endpoint, error);
            attempts++;
            var count = MoveToNextEndpoint(endpoint);
            if (attempts % count == 0)
            {
                // A whole round failed: pause briefly instead of spinning through refused connections.
                var pause = budget - time.GetElapsedTime(start);
                if (pause > RoundPause) pause = RoundPause;
                if (pause > TimeSpan.Zero) await Task.Delay(pause, time, ct);
            }
        }
        last ??= new Etcd3Error(DcsErrorKind.Timeout, Etcd3Recovery.Fail, "no attempt fitted in the budget");
        var kind = sawNoLeader ? DcsErrorKind.NoLeader : last.Kind;
        throw new DcsException(kind,
            $"etcd: no endpoint answered within retry_timeout {budget.TotalSeconds:0.###} s; last: {lastEndpoint}: {last.Message}",
            lastException);
    }

    /// <summary>
    /// Writes to a member without a raft leader just hang until etcd's own timeout; /health answers at once
    /// whether the member sees a leader, which tells "no leader" from "hung server" after a timeout.
    /// </summary>
    private async Task<bool> HasNoLeaderAsync(string endpoint, long start, TimeSpan budget, CancellationToken ct)
    {
        var remaining = budget - time.GetElapsedTime(start);
        if (remaining <= TimeSpan.Zero) remaining = TimeSpan.FromMilliseconds(100);
        var probe = remaining < NoLeaderProbeTimeout ? remaining : NoLeaderProbeTimeout;
        return await HealthSaysFalseAsync(endpoint, probe, ct);
    }

    private async Task<bool> HealthSaysFalseAsync(string endpoint, TimeSpan probe, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(probe, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            using var response = await http.GetAsync(endpoint + "/health", linked.Token);
            // 3.4 answers {"health":"false"} (with 503) when the member has no raft leader.
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            return text.Contains("\"health\":\"false\"", StringComparison.Ordinal);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<(JsonNode? Node, Etcd3Error? Error, Exception? Exception)> SendOnceAsync(
        HttpMethod method, string url, JsonObject? body, bool useToken, TimeSpan perRequest, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(perRequest, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            using var request = BuildRequest(method, url, body, useToken);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            // 3.4 answers {"health":"false"} (with 503) when the member has no raft leader.
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            if (response.StatusCode != HttpStatusCode.OK)
                return (null, Etcd3ErrorClassifier.ClassifyBody(response.StatusCode, text), null);
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                return (null, new Etcd3Error(DcsErrorKind.Protocol, Etcd3Recovery.Fail, $"unparsable answer from {url}: {e.Message}"), e);
            }
            if (node is not JsonObject o)
                return (null, new Etcd3Error(DcsErrorKind.Protocol, Etcd3Recovery.Fail, $"answer from {url} is not a JSON object"), null);
            // Streaming calls (keepalive) report errors inside a 200 answer.
            if (o["error"] is not null && o["header"] is null && o["result"] is null)
                return (null, Etcd3ErrorClassifier.ClassifyBody(response.StatusCode, text), null);
            return (o, null, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return (null, Etcd3ErrorClassifier.ClassifyTransport(e, timeout.IsCancellationRequested), e);
        }
    }

    private HttpRequestMessage BuildRequest(HttpMethod method, string url, JsonObject? body, bool useToken)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        // etcd wants the bare token, no "Bearer".
        if (useToken && token is { } t) request.Headers.TryAddWithoutValidation("authorization", t);
        return request;
    }

    private int MoveToNextEndpoint(string failed)
    {
        string next;
        int count;
        lock (gate)
        {
            count = endpoints.Count;
            if (endpoints[current] != failed) return count; // someone else already moved on
            current = (current + 1) % count;
            next = endpoints[current];
        }
        if (next != failed) EndpointChanged?.Invoke(next);
        return count;
    }

    private async Task EnsureInitializedAsync(long start, CancellationToken ct)
    {
        if (apiPrefix is not null) return;
        await initLock.WaitAsync(ct);
        try
        {
            if (apiPrefix is not null) return;
            var version = await RunWithFailoverAsync(start, ep => (HttpMethod.Get, ep + "/version", null, false), ct);
            var cluster = version["etcdcluster"]?.GetValue<string>() ?? "";
            var server = version["etcdserver"]?.GetValue<string>() ?? "";
            // "not_decided" right after start: the server version is the next best guess.
            var prefix = ApiPrefixFor(cluster.Contains('.') ? cluster : server);
            logger.LogInformation("etcd {Endpoint}: server {Server}, cluster {Cluster}: using {Prefix}", CurrentEndpoint, server, cluster, prefix);
            apiPrefix = prefix;
            if (options.Username is not null) await AuthenticateAsync(start, ct);
            if (options.DiscoverMembers) await DiscoverAsync(start, ct);
        }
        catch
        {
            apiPrefix = null;
            throw;
        }
        finally
        {
            initLock.Release();
        }
    }

    private async Task DiscoverAsync(long start, CancellationToken ct)
    {
        try
        {
            var node = await RunWithFailoverAsync(start,
                ep => (HttpMethod.Post, ep + apiPrefix + "/cluster/member/list", new JsonObject(), true), ct);
            var urls = (node["members"] as JsonArray ?? [])
                .SelectMany(m => m?["clientURLs"] as JsonArray ?? [])
                .Select(u => u?.GetValue<string>())
                .Where(u => !string.IsNullOrEmpty(u))
                .Select(u => NormalizeEndpoint(u!));
            lock (gate)
            {
                foreach (var u in urls)
                {
                    if (!endpoints.Contains(u)) endpoints.Add(u);
                }
            }
        }
        catch (DcsException e) when (e.Kind != DcsErrorKind.AuthFailed)
        {
            // The configured endpoints still work without discovery.
            logger.LogWarning("etcd member discovery failed: {Message}", e.Message);
        }
        catch (DcsReauthenticateException e)
        {
            logger.LogWarning("etcd member discovery failed: {Message}", e.Message);
        }
    }

    private async Task AuthenticateAsync(long start, CancellationToken ct)
    {
        await authLock.WaitAsync(ct);
        try
        {
            token = null;
            var body = new JsonObject { ["name"] = options.Username, ["password"] = options.Password ?? "" };
            try
            {
                var node = await RunWithFailoverAsync(start, ep => (HttpMethod.Post, ep + apiPrefix + "/auth/authenticate", body, false), ct);
                token = node["token"]?.GetValue<string>();
            }
            catch (DcsException e) when (e.Message.Contains("authentication is not enabled", StringComparison.Ordinal))
            {
                logger.LogInformation("etcd authentication is not enabled; going on without a token");
            }
            catch (DcsReauthenticateException e)
            {
                throw new DcsException(DcsErrorKind.AuthFailed, $"etcd authentication as user {options.Username} failed: {e.Message}", e);
            }
            catch (DcsException e) when (e.Kind == DcsErrorKind.AuthFailed)
            {
                // Name the user (never the password) so the operator knows which credentials etcd refused.
                throw new DcsException(DcsErrorKind.AuthFailed, $"etcd authentication as user {options.Username} failed: {e.Message}", e);
            }
        }
        finally
        {
            authLock.Release();
        }
    }

    public void Dispose()
    {
        http.Dispose();
        initLock.Dispose();
        authLock.Dispose();
    }

    /// <summary>Internal signal from one attempt up to the call: authenticate again, then retry.</summary>
    private sealed class DcsReauthenticateException(string message) : Exception(message);
}
