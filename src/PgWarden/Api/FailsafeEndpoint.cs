using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PgWarden.Ha.Safety;

namespace PgWarden.Api;

/// <summary>
/// POST /failsafe (compat §2.11): a primary that lost the DCS asks us to confirm it. 502 when failsafe_mode is off;
/// 500 "Running as a leader" when we are a running primary ourselves; else 200 "Accepted" with our WAL position in
/// an lsn header, and we treat the sender as the leader for ttl seconds (we do not race meanwhile).
/// </summary>
public static class FailsafeEndpoint
{
    public static void Register(RestRoutes routes, RestApiContext api, FailsafeState failsafe)
    {
        routes.Map("POST", "failsafe", async ctx =>
        {
            if (!await WriteAccess.CheckAsync(ctx, api)) return;
            await HandleAsync(ctx, api, failsafe);
        });
        // GET /failsafe: the failsafe key as the last view read it; 502 when the mode is off or the key is missing.
        routes.Map("GET", "failsafe", ctx =>
        {
            var status = api.Board.Current;
            var dynamic = status.View?.Config?.Value ?? status.Dynamic;
            if (!dynamic.FailsafeMode || status.View?.Failsafe is not { } topology)
                return OperationEndpoints.WriteTextAsync(ctx, api, 502, "Failsafe mode is not enabled or the failsafe key is missing");
            var o = new JsonObject();
            foreach (var (name, url) in topology) o[name] = url;
            return api.WriteJsonAsync(ctx, 200, PythonJson.Serialize(o));
        });
    }

    private static async Task HandleAsync(HttpContext ctx, RestApiContext api, FailsafeState failsafe)
    {
        var status = api.Board.Current;
        var dynamic = status.View?.Config?.Value ?? status.Dynamic;
        if (!dynamic.FailsafeMode)
        {
            await OperationEndpoints.WriteTextAsync(ctx, api, 502, "Failsafe mode is not enabled");
            return;
        }
        string? sender = null;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
        {
            var text = await reader.ReadToEndAsync(ctx.RequestAborted);
            try
            {
                if (JsonNode.Parse(text) is JsonObject o && o["name"] is JsonValue v && v.TryGetValue<string>(out var n)) sender = n;
            }
            catch (JsonException) { }
        }
        if (string.IsNullOrEmpty(sender))
        {
            await OperationEndpoints.WriteTextAsync(ctx, api, 400, "Bad Request");
            return;
        }
        if (status.Probe is { InRecovery: false } && status.PgState == "running")
        {
            await OperationEndpoints.WriteTextAsync(ctx, api, 500, "Running as a leader");
            return;
        }
        failsafe.Accept(sender, dynamic.Ttl);
        if (status.Probe is { } probe && probe.WalPosition > 0) ctx.Response.Headers["lsn"] = probe.WalPosition.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await OperationEndpoints.WriteTextAsync(ctx, api, 200, "Accepted");
    }
}
