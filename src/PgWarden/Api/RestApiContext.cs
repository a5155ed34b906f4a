using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.Api;

/// <summary>
/// What every endpoint group shares: the snapshot sources, the DCS for fresh reads, and response helpers.
/// Bodies derived only from a snapshot are cached per (snapshot, postmaster verdict), so a health check
/// between two HA cycles serialises nothing.
/// </summary>
public sealed class RestApiContext(AgentConfig config, NodeStatusBoard board, PostmasterHealth health, IDcs dcs,
    TimeProvider time, ILogger logger)
{
    public const string JsonContentType = "application/json";

    private static readonly IReadOnlyDictionary<string, string> NoQuery = new Dictionary<string, string>();
    private readonly KeyValuePair<string, string>[] _extraHeaders = [.. config.RestApi.HttpExtraHeaders];
    private SnapshotBody? _statusBody;
    private SnapshotBody? _metricsBody;

    public AgentConfig Config => config;
    public NodeStatusBoard Board => board;
    public PostmasterHealth Health => health;
    public IDcs Dcs => dcs;
    public TimeProvider Time => time;
    public ILogger Logger => logger;

    /// <summary>restapi.allowlist / allowlist_include_members, resolved once at start.</summary>
    public RestAllowlist Allowlist { get; } = RestAllowlist.Build(config.RestApi.Allowlist, config.RestApi.AllowlistIncludeMembers);

    public byte[] StatusBody(NodeStatus status, bool healthy) =>
        Cached(ref _statusBody, status, healthy, static (s, h) => StatusDocument.SerializeUtf8(s, h));

    public byte[] MetricsBody(NodeStatus status, bool healthy) =>
        Cached(ref _metricsBody, status, healthy, static (s, h) => Encoding.UTF8.GetBytes(MetricsDocument.Build(s, h)));

    private static byte[] Cached(ref SnapshotBody? slot, NodeStatus status, bool healthy, Func<NodeStatus, bool, byte[]> build)
    {
        var cached = Volatile.Read(ref slot);
        if (cached is not null && ReferenceEquals(cached.Status, status) && cached.Healthy == healthy) return cached.Body;
        var body = build(status, healthy);
        Volatile.Write(ref slot, new SnapshotBody(status, healthy, body));
        return body;
    }

    /// <summary>The query string as Patroni's parse_qs sees it: first value per key, blank values dropped.</summary>
    public static IReadOnlyDictionary<string, string> QueryOf(HttpRequest request)
    {
        if (!request.QueryString.HasValue) return NoQuery;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in request.Query)
        {
            foreach (var v in values)
            {
                if (!string.IsNullOrEmpty(v)) { result[key] = v; break; }
            }
        }
        return result;
    }

    public Task WriteAsync(HttpContext ctx, int statusCode, byte[] body, string contentType)
    {
        var response = ctx.Response;
        response.StatusCode = statusCode;
        response.ContentType = contentType;
        foreach (var (name, value) in _extraHeaders) response.Headers[name] = value;
        response.ContentLength = body.Length;
        return body.Length == 0 ? Task.CompletedTask : response.Body.WriteAsync(body, 0, body.Length, ctx.RequestAborted);
    }

    public Task WriteJsonAsync(HttpContext ctx, int statusCode, string json) =>
        WriteAsync(ctx, statusCode, Encoding.UTF8.GetBytes(json), JsonContentType);

    /// <summary>Only the status line (HEAD/OPTIONS for HAProxy, /liveness, /readiness): no body.</summary>
    public static Task WriteStatusOnly(HttpContext ctx, int statusCode)
    {
        ctx.Response.StatusCode = statusCode;
        ctx.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private sealed record SnapshotBody(NodeStatus Status, bool Healthy, byte[] Body);
}
