using System.Text.Json;
using PgWarden.Dcs;

namespace PgWarden.Ha;

/// <summary>
/// Asks every other member's REST API, in parallel and under one tight deadline, for its role and WAL position
/// before a leader race (compat §2.2: a node answering role master/primary or xlog.location is a live primary).
/// </summary>
public sealed class PeerProber(HttpClient http)
{
    public async Task<IReadOnlyList<PeerStatus>> ProbeAsync(IEnumerable<Member> members, TimeSpan deadline, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(deadline);
        var probes = members.Where(m => !string.IsNullOrEmpty(m.Data.ApiUrl)).Select(m => ProbeOneAsync(m, deadline, cts.Token));
        return await Task.WhenAll(probes);
    }

    private async Task<PeerStatus> ProbeOneAsync(Member member, TimeSpan deadline, CancellationToken ct)
    {
        var url = member.Data.ApiUrl;
        try
        {
            // A stream into JsonDocument rather than GetFromJsonAsync<T>, which picks a serializer by reflection.
            await using var body = await http.GetStreamAsync(url, ct);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            return Parse(member.Name, doc.RootElement, url);
        }
        catch (OperationCanceledException)
        {
            return PeerStatus.Unreachable(member.Name, $"did not answer GET {url} within {deadline.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or NotSupportedException)
        {
            return PeerStatus.Unreachable(member.Name, $"GET {url} failed: {e.Message}");
        }
    }

    internal static PeerStatus Parse(string name, JsonElement root, string? url = null)
    {
        if (!root.TryGetProperty("xlog", out var xlog) && !root.TryGetProperty("wal", out xlog))
        {
            var state = root.TryGetProperty("state", out var st) && st.ValueKind == JsonValueKind.String ? st.GetString() : "unknown";
            return PeerStatus.Unreachable(name, $"GET {url ?? "/patroni"} answered without a WAL position (PostgreSQL state {state})");
        }
        var role = root.TryGetProperty("role", out var r) ? r.GetString() : null;
        var isPrimary = role is "master" or "primary" || xlog.TryGetProperty("location", out _);
        long wal = isPrimary && xlog.TryGetProperty("location", out var loc)
            ? loc.GetInt64()
            : Math.Max(Long(xlog, "received_location"), Long(xlog, "replayed_location"));
        var tags = root.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Object
            ? new Config.MemberTags(System.Text.Json.Nodes.JsonObject.Create(t)!.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone()))
            : Config.MemberTags.Empty;
        return new PeerStatus(name, true, isPrimary, wal, tags.NoFailover, tags.FailoverPriority);
    }

    private static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
}
