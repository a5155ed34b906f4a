using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgWarden.Dcs.Etcd3;

/// <summary>What the client should do after an error.</summary>
public enum Etcd3Recovery
{
    /// <summary>The answer is final: throw.</summary>
    Fail,
    /// <summary>This endpoint cannot serve us now: try the next one within the budget.</summary>
    NextEndpoint,
    /// <summary>The auth token is missing, expired or stale: authenticate again and retry.</summary>
    Reauthenticate,
}

/// <summary>An error mapped to a <see cref="DcsErrorKind"/> and the recovery that fits it.</summary>
public sealed record Etcd3Error(DcsErrorKind Kind, Etcd3Recovery Recovery, string Message, int GrpcCode = -1)
{
    public DcsException ToException(string endpoint, Exception? inner = null) =>
        new(Kind, $"etcd {endpoint}: {Message}", inner);
}

/// <summary>
/// Maps gateway error bodies ({"error":..,"code":..,"message":..}) and transport failures to error kinds.
/// gRPC codes: 3 InvalidArgument, 4 DeadlineExceeded, 5 NotFound, 7 PermissionDenied, 9 FailedPrecondition,
/// 14 Unavailable, 16 Unauthenticated.
/// </summary>
public static class Etcd3ErrorClassifier
{
    private static readonly string[] ReauthenticateMessages =
        ["user name is empty", "permission denied", "invalid auth token", "revision of auth store is old"];

    public static Etcd3Error ClassifyBody(HttpStatusCode status, string body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            node = null;
        }
        if (node is not JsonObject o || (o["error"] is null && o["message"] is null))
        {
            var snippet = body.Length > 200 ? body[..200] + "..." : body;
            // A 404 without an etcd error body: wrong API prefix or not an etcd server at all.
            return new Etcd3Error(DcsErrorKind.Protocol,
                (int)status >= 500 ? Etcd3Recovery.NextEndpoint : Etcd3Recovery.Fail,
                $"HTTP {(int)status} with a body that is not an etcd error: {snippet}");
        }
        // Unary errors: {"error":"..","code":14,"message":".."}; errors inside a stream (keepalive, watch):
        // {"error":{"grpc_code":14,"http_code":503,"message":"..","http_status":".."}}.
        var source = o["error"] as JsonObject ?? o;
        var message = (source == o ? ReadString(o["error"]) : null) ?? ReadString(source["message"]) ?? "";
        var codeNode = source["code"] ?? source["grpc_code"];
        var code = codeNode is JsonValue cv && cv.TryGetValue<int>(out var c) ? c : -1;
        return ClassifyMessage(code, message);
    }

    public static Etcd3Error ClassifyMessage(int code, string message)
    {
        var m = message.ToLowerInvariant();
        if (m.Contains("requested lease not found"))
            return new(DcsErrorKind.LeaseNotFound, Etcd3Recovery.Fail, message, code);
        if (m.Contains("authentication failed"))
            return new(DcsErrorKind.AuthFailed, Etcd3Recovery.Fail, message, code);
        if (ReauthenticateMessages.Any(m.Contains))
            return new(DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate, message, code);
        if (m.Contains("no leader") || m.Contains("leader changed") || m.Contains("leader fail") || m.Contains("not leader")
            || m.Contains("not a primary lessor"))
            return new(DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint, message, code);
        if (m.Contains("request timed out") || m.Contains("context deadline exceeded") || code == 4)
            return new(DcsErrorKind.Timeout, Etcd3Recovery.NextEndpoint, message, code);
        if (code == 14)
            return new(DcsErrorKind.NoLeader, Etcd3Recovery.NextEndpoint, message, code);
        if (code == 16)
            return new(DcsErrorKind.AuthFailed, Etcd3Recovery.Reauthenticate, message, code);
        if (m.Contains("authentication is not enabled"))
            return new(DcsErrorKind.AuthFailed, Etcd3Recovery.Fail, message, code);
        // InvalidArgument on a request we built ourselves means we spoke the protocol wrong.
        if (code == 3 && (m.Contains("invalid character") || m.Contains("unknown field") || m.Contains("cannot unmarshal")))
            return new(DcsErrorKind.Protocol, Etcd3Recovery.Fail, message, code);
        return new(DcsErrorKind.Other, Etcd3Recovery.Fail, message, code);
    }

    /// <summary>A failure below HTTP: refused/reset/unreachable connections, or the per-request timeout.</summary>
    public static Etcd3Error ClassifyTransport(Exception e, bool perRequestTimeoutFired)
    {
        if (perRequestTimeoutFired || e is TimeoutException)
            return new(DcsErrorKind.Timeout, Etcd3Recovery.NextEndpoint, "request timed out");
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException se)
            {
                var kind = se.SocketErrorCode == SocketError.TimedOut ? DcsErrorKind.Timeout : DcsErrorKind.ConnectionRefused;
                return new(kind, Etcd3Recovery.NextEndpoint, $"{se.SocketErrorCode}: {se.Message}");
            }
        }
        // Connection dropped mid-response (reset, EOF): the endpoint went away.
        if (e is HttpRequestException or IOException)
            return new(DcsErrorKind.ConnectionRefused, Etcd3Recovery.NextEndpoint, Describe(e));
        return new(DcsErrorKind.Other, Etcd3Recovery.Fail, Describe(e));
    }

    /// <summary>
    /// The message with its inner causes: "The SSL connection could not be established, see inner exception" alone
    /// does not tell an untrusted certificate from a refused handshake.
    /// </summary>
    public static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            var m = inner.Message.Replace(", see inner exception.", "", StringComparison.Ordinal).TrimEnd('.');
            if (parts.Count == 0 || parts[^1] != m) parts.Add(m);
        }
        return string.Join(": ", parts);
    }

    private static string? ReadString(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n?.ToJsonString();
}
