using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PgWarden.Dcs;

namespace PgWarden.Api;

/// <summary>
/// Read-only informational endpoints (compat §2.5): /patroni from the snapshot; /cluster, /history and /config
/// from a fresh DCS read, as Patroni does. A DCS that cannot be read answers 502.
/// </summary>
public static class InfoEndpoints
{
    public static void Register(RestRoutes routes, RestApiContext api)
    {
        routes.Map("GET", "patroni", ctx =>
        {
            var status = api.Board.Current;
            var healthy = api.Health.IsHealthy;
            return api.WriteAsync(ctx, 200, api.StatusBody(status, healthy), RestApiContext.JsonContentType);
        });
        routes.Map("GET", "cluster", ctx => WithClusterAsync(ctx, api,
            view => (200, PythonJson.Serialize(ClusterDocument.Build(view, api.Config.Scope)))));
        routes.Map("GET", "history", ctx => WithClusterAsync(ctx, api, view => (200, HistoryJson(view.History))));
        routes.Map("GET", "config", ctx => WithClusterAsync(ctx, api, ConfigJson));
    }

    /// <summary>The history key as Patroni returns it: [[tl, lsn, reason, timestamp, new_leader], ...]; [] when absent.</summary>
    public static string HistoryJson(IReadOnlyList<HistoryEntry>? history)
    {
        var lines = new JsonArray();
        foreach (var h in history ?? [])
        {
            // Add(JsonNode?) through the implicit conversions, not the generic Add<T>, which serializes by reflection.
            var line = new JsonArray(h.Timeline, h.SwitchLsn, h.Reason);
            if (h.Timestamp is not null || h.NewLeader is not null) line.Add((JsonNode?)h.Timestamp);
            if (h.NewLeader is not null) line.Add((JsonNode)h.NewLeader);
            lines.Add((JsonNode)line);
        }
        return PythonJson.Serialize(lines);
    }

    private static (int, string) ConfigJson(ClusterView view)
    {
        if (view.Config is not { } config || string.IsNullOrWhiteSpace(config.RawJson)) return (502, "");
        try
        {
            return JsonNode.Parse(config.RawJson) is JsonObject o ? (200, PythonJson.Serialize(o)) : (502, "");
        }
        catch (JsonException)
        {
            return (502, "");
        }
    }

    private static async Task WithClusterAsync(HttpContext ctx, RestApiContext api, Func<ClusterView, (int Code, string Json)> render)
    {
        ClusterView view;
        try
        {
            view = await api.Dcs.GetClusterAsync(ctx.RequestAborted);
        }
        catch (DcsException e)
        {
            api.Logger.LogWarning("GET {Path}: the DCS could not be read: {Message}", ctx.Request.Path.Value, e.Message);
            await RestApiContext.WriteStatusOnly(ctx, 502);
            return;
        }
        var (code, json) = render(view);
        if (json.Length == 0) await RestApiContext.WriteStatusOnly(ctx, code);
        else await api.WriteJsonAsync(ctx, code, json);
    }
}
