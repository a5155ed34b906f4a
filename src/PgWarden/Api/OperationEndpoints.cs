using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PgWarden.Ha.Operations;

namespace PgWarden.Api;

/// <summary>
/// POST /restart, DELETE /restart, POST /reload, POST /reinitialize (compat §2.9-2.10), with Patroni 3.0's
/// messages and codes. The work itself runs in the HA loop (<see cref="OperationQueue"/>); an immediate restart
/// answers when it is done, as Patroni's does.
/// </summary>
public static class OperationEndpoints
{
    public const string TextContentType = "text/html";

    public static void Register(RestRoutes routes, RestApiContext api, OperationQueue queue)
    {
        routes.Map("POST", "restart", ctx => Guarded(ctx, api, () => RestartAsync(ctx, api, queue)));
        routes.Map("DELETE", "restart", ctx => Guarded(ctx, api, () => queue.CancelScheduled()
            ? WriteTextAsync(ctx, api, 200, "scheduled restart deleted")
            : WriteTextAsync(ctx, api, 404, "no restarts are scheduled")));
        routes.Map("POST", "reload", ctx => Guarded(ctx, api, () =>
        {
            queue.RequestReload();
            return WriteTextAsync(ctx, api, 202, "reload scheduled");
        }));
        routes.Map("POST", "reinitialize", ctx => Guarded(ctx, api, () => ReinitializeAsync(ctx, api, queue)));
    }

    private static async Task Guarded(HttpContext ctx, RestApiContext api, Func<Task> action)
    {
        if (await WriteAccess.CheckAsync(ctx, api)) await action();
    }

    public static Task WriteTextAsync(HttpContext ctx, RestApiContext api, int code, string text) =>
        api.WriteAsync(ctx, code, Encoding.UTF8.GetBytes(text), TextContentType);

    /// <summary>The request's JSON object; {} for an empty body; null (400 written) when it is not a JSON object.</summary>
    private static async Task<JsonObject?> ReadBodyAsync(HttpContext ctx, RestApiContext api)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ctx.RequestAborted);
        if (string.IsNullOrWhiteSpace(text)) return [];
        try
        {
            if (JsonNode.Parse(text) is JsonObject o) return o;
        }
        catch (JsonException) { }
        await WriteTextAsync(ctx, api, 400, "Bad Request");
        return null;
    }

    private static async Task RestartAsync(HttpContext ctx, RestApiContext api, OperationQueue queue)
    {
        if (await ReadBodyAsync(ctx, api) is not { } body) return;
        var (error, code, request) = ParseRestart(body, api.Time.GetUtcNow(), api.Board.Current.IsPaused);
        if (error is not null)
        {
            await WriteTextAsync(ctx, api, code, error);
            return;
        }
        if (request!.Schedule is { } at)
        {
            var stored = (JsonObject)body.DeepClone();
            stored["schedule"] = at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
            var start = api.Board.Current.Probe?.PostmasterStartTime;
            stored["postmaster_start_time"] = start?.ToString("o", CultureInfo.InvariantCulture);
            if (queue.TrySchedule(stored)) await WriteTextAsync(ctx, api, 202, "Restart scheduled");
            else await WriteTextAsync(ctx, api, 409, "Another restart is already scheduled");
            return;
        }
        var outcome = await queue.RequestRestartAsync(request);
        await WriteTextAsync(ctx, api, outcome.Code, outcome.Message);
    }

    /// <summary>Patroni 3.0's checks of a restart body, in its order; the first failure wins.</summary>
    public static (string? Error, int Code, RestartRequest? Request) ParseRestart(JsonObject body, DateTimeOffset now, bool paused)
    {
        ArgumentNullException.ThrowIfNull(body);
        var request = new RestartRequest();
        foreach (var (key, value) in body)
        {
            switch (key)
            {
                case "schedule":
                    if (paused) return ("Can't schedule restart in the paused state", 500, null);
                    var (scheduleError, scheduleCode, at) = ParseSchedule(value, now, "restart");
                    if (scheduleError is not null) return (scheduleError, scheduleCode, null);
                    request = request with { Schedule = at };
                    break;
                case "role":
                    var role = value?.ToString();
                    if (role is not ("master" or "primary" or "replica")) return ("PostgreSQL role should be either primary or replica", 400, null);
                    request = request with { Role = role };
                    break;
                case "postgres_version":
                    var text = value?.ToString() ?? "None";
                    if (!PostgresVersionText.TryParse(text, out var num, out var versionError)) return (versionError, 400, null);
                    request = request with { PostgresVersion = num, PostgresVersionText = text };
                    break;
                case "timeout":
                    if (Seconds(value) is not { } seconds || seconds <= 0) return ("Timeout should be a positive number of seconds", 400, null);
                    request = request with { TimeoutSeconds = seconds };
                    break;
                case "restart_pending":
                    request = request with { RestartPending = true };
                    break;
                default:
                    return ($"Unknown filter for the scheduled restart: {key}", 400, null);
            }
        }
        return (null, 200, request);
    }

    /// <summary>Patroni's parse_schedule: ISO-8601 with a time zone, not in the past.</summary>
    public static (string? Error, int Code, DateTimeOffset? At) ParseSchedule(JsonNode? value, DateTimeOffset now, string action)
    {
        var text = value?.ToString() ?? "";
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            || !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            return ("Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601", 422, null);
        if (!HasZone(text)) return ($"Timezone information is mandatory for the scheduled {action}", 400, null);
        if (at < now) return ($"Cannot schedule {action} in the past", 422, null);
        return (null, 0, at);
    }

    private static bool HasZone(string text)
    {
        var t = text.Trim();
        if (t.EndsWith('Z') || t.EndsWith('z')) return true;
        var timePart = t.Contains('T', StringComparison.Ordinal) ? t[(t.IndexOf('T', StringComparison.Ordinal) + 1)..]
            : t.Contains(' ', StringComparison.Ordinal) ? t[(t.IndexOf(' ', StringComparison.Ordinal) + 1)..] : "";
        return timePart.Contains('+', StringComparison.Ordinal) || timePart.Contains('-', StringComparison.Ordinal);
    }

    /// <summary>parse_int(value, 's'): an integer, or a number with a time unit.</summary>
    private static int? Seconds(JsonNode? value)
    {
        if (value is null) return null;
        var text = value.ToString().Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain)) return (int)plain;
        foreach (var (unit, factor) in new[] { ("ms", 0.001), ("min", 60.0), ("s", 1.0), ("h", 3600.0), ("d", 86400.0) })
        {
            if (text.EndsWith(unit, StringComparison.Ordinal)
                && double.TryParse(text[..^unit.Length].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
                return (int)Math.Round(n * factor);
        }
        return null;
    }

    private static async Task ReinitializeAsync(HttpContext ctx, RestApiContext api, OperationQueue queue)
    {
        if (await ReadBodyAsync(ctx, api) is not { } body) return;
        bool? parsedForce = body["force"] is { } f ? Config.DynamicConfigParser.ParseBool(f) : false;
        if (parsedForce is not { } force)
        {
            await WriteTextAsync(ctx, api, 400, $"force should be a boolean, not {body["force"]?.ToJsonString()}");
            return;
        }
        var status = api.Board.Current;
        var view = status.View;
        OperationOutcome outcome;
        if (view?.Leader is null) outcome = new OperationOutcome(503, "Cluster has no leader, can not reinitialize");
        else if (view.Leader.Name == status.Name) outcome = new OperationOutcome(503, "I am the leader, can not reinitialize");
        else outcome = queue.RequestReinitialize(force);
        await WriteTextAsync(ctx, api, outcome.Code, outcome.Message);
    }
}
