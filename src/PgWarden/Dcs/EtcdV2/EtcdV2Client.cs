using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Dcs.EtcdV2;

/// <summary>One node of a v2 answer (a key, or a directory with its nodes).</summary>
public sealed record EtcdV2Node(string Key, string? Value, bool Dir, long ModifiedIndex, long CreatedIndex, long? Ttl, IReadOnlyList<EtcdV2Node> Nodes)
{
    public static EtcdV2Node Parse(JsonNode n) => new(
        n["key"]?.GetValue<string>() ?? "",
        n["value"]?.GetValue<string>(),
        n["dir"] is { } d && d.GetValue<bool>(),
        Etcd3Json.ReadInt64(n["modifiedIndex"]),
        Etcd3Json.ReadInt64(n["createdIndex"]),
        n["ttl"] is { } t ? Etcd3Json.ReadInt64(t) : null,
        n["nodes"] is JsonArray a ? a.Where(x => x is not null).Select(x => Parse(x!)).ToList() : []);

    /// <summary>Every key (non-directory) at or below this node.</summary>
    public IEnumerable<EtcdV2Node> Leaves()
    {
        if (!Dir)
        {
            yield return this;
            yield break;
        }
        foreach (var child in Nodes)
        foreach (var leaf in child.Leaves())
            yield return leaf;
    }
}

/// <summary>An answer of /v2/keys: success with action and node, or etcd's errorCode (100 key not found, 101 compare failed, ...).</summary>
public sealed record EtcdV2Response(HttpStatusCode Status, string? Action, EtcdV2Node? Node, int ErrorCode, string? Message, long EtcdIndex)
{
    public bool Ok => ErrorCode == 0 && (int)Status < 300;
    public const int KeyNotFound = 100;
    public const int CompareFailed = 101;
    public const int NodeExist = 105;
    public const int EventIndexCleared = 401;
}

/// <summary>
/// etcd's v2 keys API (what Patroni's etcd: section speaks through python-etcd): form-encoded PUTs, query-string
/// GET/DELETE, JSON answers. A call tries the endpoints in turn within the retry_timeout budget.
/// </summary>
public sealed class EtcdV2Client : IDisposable
{
    private readonly List<string> endpoints;
    private readonly HttpClient http;
    private readonly Lock gate = new();
    private int current;

    public EtcdV2Client(IReadOnlyList<string> endpoints, string? username, string? password, string userAgent)
    {
        if (endpoints.Count == 0) throw new ArgumentException("etcd: at least one endpoint is needed", nameof(endpoints));
        this.endpoints = endpoints.Select(Etcd3Client.NormalizeEndpoint).Distinct().ToList();
        http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            UseProxy = false,
            AllowAutoRedirect = true,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        if (username is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
    }

    public IReadOnlyList<string> Endpoints => endpoints;

    /// <summary>Per-endpoint budget of an ordinary call (a wait call uses its own timeout).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public Task<EtcdV2Response> GetAsync(string key, IReadOnlyDictionary<string, string>? query, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, key, query, null, ct);

    public Task<EtcdV2Response> PutAsync(string key, IReadOnlyDictionary<string, string> form, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, key, null, form, ct);

    public Task<EtcdV2Response> DeleteAsync(string key, IReadOnlyDictionary<string, string>? query, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, key, query, null, ct);

    /// <summary>A long poll (wait=true): one endpoint, no retry, bounded by timeout; null when it ran out.</summary>
    public async Task<EtcdV2Response?> WaitAsync(string key, IReadOnlyDictionary<string, string> query, TimeSpan timeout, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        var endpoint = CurrentEndpoint;
        try
        {
            return await SendOnceAsync(endpoint, HttpMethod.Get, key, query, null, bounded.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
        catch (HttpRequestException e)
        {
            MoveOn(endpoint);
            throw new DcsException(DcsErrorKind.ConnectionRefused, $"etcd: watch on {endpoint} failed: {e.Message}", e);
        }
    }

    private string CurrentEndpoint
    {
        get { lock (gate) return endpoints[current]; }
    }

    private void MoveOn(string failed)
    {
        lock (gate)
        {
            if (endpoints[current] == failed) current = (current + 1) % endpoints.Count;
        }
    }

    private async Task<EtcdV2Response> SendAsync(HttpMethod method, string key, IReadOnlyDictionary<string, string>? query,
        IReadOnlyDictionary<string, string>? form, CancellationToken ct)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < endpoints.Count * 2; attempt++)
        {
            var endpoint = CurrentEndpoint;
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(RequestTimeout);
            try
            {
                var response = await SendOnceAsync(endpoint, method, key, query, form, bounded.Token);
                // 5xx (no leader, raft timeout) is worth another endpoint; anything else is etcd's answer.
                if ((int)response.Status < 500) return response;
                last = new DcsException(DcsErrorKind.NoLeader, $"etcd: {endpoint} answered {(int)response.Status} {response.Message}");
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                last = new DcsException(DcsErrorKind.Timeout, $"etcd: {endpoint} did not answer within {RequestTimeout.TotalSeconds:0.#} s", e);
            }
            catch (HttpRequestException e)
            {
                last = new DcsException(DcsErrorKind.ConnectionRefused, $"etcd: {endpoint}: {e.Message}", e);
            }
            MoveOn(endpoint);
            if (attempt % endpoints.Count == endpoints.Count - 1) await Task.Delay(200, ct);
        }
        throw last as DcsException ?? new DcsException(DcsErrorKind.Other, "etcd: no endpoint answered");
    }

    private async Task<EtcdV2Response> SendOnceAsync(string endpoint, HttpMethod method, string key, IReadOnlyDictionary<string, string>? query,
        IReadOnlyDictionary<string, string>? form, CancellationToken ct)
    {
        var url = new StringBuilder(endpoint).Append("/v2/keys").Append(EscapePath(key));
        if (query is { Count: > 0 })
            url.Append('?').Append(string.Join("&", query.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value))));
        using var request = new HttpRequestMessage(method, url.ToString());
        if (form is not null) request.Content = new FormUrlEncodedContent(form);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var index = response.Headers.TryGetValues("X-Etcd-Index", out var values) && long.TryParse(values.FirstOrDefault(), out var i) ? i : 0;
        JsonNode? body = null;
        try
        {
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        if (body?["errorCode"] is { } code)
        {
            if (index == 0) index = Etcd3Json.ReadInt64(body["index"]);
            return new EtcdV2Response(response.StatusCode, null, null, (int)Etcd3Json.ReadInt64(code), body["message"]?.GetValue<string>(), index);
        }
        if (!response.IsSuccessStatusCode)
            return new EtcdV2Response(response.StatusCode, null, null, -1, text.Trim(), index);
        var node = body?["node"] is { } n ? EtcdV2Node.Parse(n) : null;
        return new EtcdV2Response(response.StatusCode, body?["action"]?.GetValue<string>(), node, 0, null, index);
    }

    private static string EscapePath(string key) =>
        string.Join("/", key.Split('/').Select(Uri.EscapeDataString));

    public void Dispose() => http.Dispose();
}
