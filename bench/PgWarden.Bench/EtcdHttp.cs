using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PgWarden.Bench;

/// <summary>
/// The few etcd v3 calls the benchmark needs, through etcd's JSON gateway: read a key (the leader lock), the
/// granted TTL of its lease, and the request counters of /metrics. Agent-neutral: both agents write the same keys.
/// </summary>
public sealed class EtcdHttp(string endpoint) : IDisposable
{
    // Exact field names (TTL, ID, range_end): the web defaults would camel-case "ID" into a field etcd ignores.
    private static readonly JsonSerializerOptions Exact = new();
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{endpoint}"), Timeout = TimeSpan.FromSeconds(2) };

    public async Task<(string? Value, long Lease)> GetAsync(string key, CancellationToken ct)
    {
        using var resp = await _http.PostAsJsonAsync("/v3/kv/range", new { key = B64(key) }, Exact, ct);
        resp.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync(ct));
        if (!doc.RootElement.TryGetProperty("kvs", out var kvs) || kvs.GetArrayLength() == 0) return (null, 0);
        var kv = kvs[0];
        var value = kv.TryGetProperty("value", out var v) ? Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!)) : "";
        var lease = kv.TryGetProperty("lease", out var l) ? long.Parse(l.GetString()!, CultureInfo.InvariantCulture) : 0;
        return (value, lease);
    }

    public async Task<long> GrantedTtlAsync(long lease, CancellationToken ct)
    {
        using var resp = await _http.PostAsJsonAsync("/v3/lease/timetolive", new { ID = lease.ToString(CultureInfo.InvariantCulture) }, Exact, ct);
        resp.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync(ct));
        return doc.RootElement.TryGetProperty("grantedTTL", out var t) ? long.Parse(t.GetString()!, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>All keys under a prefix (member keys), decoded.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetPrefixAsync(string prefix, CancellationToken ct)
    {
        var end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        using var resp = await _http.PostAsJsonAsync("/v3/kv/range", new { key = B64(prefix), range_end = Convert.ToBase64String(end) }, Exact, ct);
        resp.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync(ct));
        var result = new Dictionary<string, string>();
        if (doc.RootElement.TryGetProperty("kvs", out var kvs))
            foreach (var kv in kvs.EnumerateArray())
                result[Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!))] =
                    kv.TryGetProperty("value", out var v) ? Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!)) : "";
        return result;
    }

    /// <summary>
    /// RPCs started on etcd's gRPC server, per method. The JSON gateway turns every HTTP call into one of these,
    /// so it counts both agents' requests the same way (a watch counts once, when it starts).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, double>> StartedRpcsAsync(CancellationToken ct)
    {
        var text = await _http.GetStringAsync("/metrics", ct);
        var perMethod = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("grpc_server_started_total{", StringComparison.Ordinal)) continue;
            var method = Label(line, "grpc_method");
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            perMethod[method] = perMethod.GetValueOrDefault(method) + value;
        }
        return perMethod;
    }

    private static string Label(string line, string name)
    {
        var start = line.IndexOf(name + "=\"", StringComparison.Ordinal);
        if (start < 0) return "?";
        start += name.Length + 2;
        return line[start..line.IndexOf('"', start)];
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    public void Dispose() => _http.Dispose();
}
