using Microsoft.AspNetCore.Http;

namespace PgWarden.Api;

/// <summary>
/// Patroni-style routing: the method plus the first path segment choose the handler ("GET /cluster/x" is the
/// cluster handler); GET, HEAD and OPTIONS on anything unclaimed fall through to the health check. Lookups
/// go through a span-keyed view of the table so a request allocates nothing to find its handler.
/// </summary>
public sealed class RestRoutes
{
    private readonly Dictionary<string, Dictionary<string, RequestDelegate>> _byMethod = new(StringComparer.Ordinal);

    /// <summary>Claim method + first segment ("" is the root path).</summary>
    public void Map(string method, string segment, RequestDelegate handler)
    {
        if (!_byMethod.TryGetValue(method, out var bySegment))
            _byMethod[method] = bySegment = new Dictionary<string, RequestDelegate>(StringComparer.Ordinal);
        bySegment[segment] = handler;
    }

    public bool TryFind(string method, ReadOnlySpan<char> segment, out RequestDelegate handler)
    {
        handler = null!;
        if (!_byMethod.TryGetValue(method, out var bySegment)) return false;
        var lookup = bySegment.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(segment, out var found)) return false;
        handler = found;
        return true;
    }

    /// <summary>"/cluster/xyz" -> "cluster"; "/" -> "".</summary>
    public static ReadOnlySpan<char> FirstSegment(ReadOnlySpan<char> path)
    {
        path = path.TrimStart('/');
        var slash = path.IndexOf('/');
        return slash < 0 ? path : path[..slash];
    }
}
