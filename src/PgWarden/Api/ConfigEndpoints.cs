using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Api;

/// <summary>
/// PATCH /config (merge, null deletes; compare-and-set on the config key's mod_revision) and PUT /config
/// (replace) as in compat §2.7; pause/resume are PATCH {"pause": true|null}. Unlike Patroni the merged result is
/// validated first (DynamicConfigParser.ValidateStrict) and refused with 400 naming each bad value.
/// </summary>
public static class ConfigEndpoints
{
    public static void Register(RestRoutes routes, RestApiContext api)
    {
        routes.Map("PATCH", "config", WriteAccess.Require(api, ctx => PatchAsync(ctx, api)));
        routes.Map("PUT", "config", WriteAccess.Require(api, ctx => PutAsync(ctx, api)));
    }

    private static async Task PatchAsync(HttpContext ctx, RestApiContext api)
    {
        var request = await PlainText.ReadJsonObjectAsync(ctx, api);
        if (request is null) return;
        ClusterView view;
        try { view = await api.Dcs.GetClusterAsync(ctx.RequestAborted); }
        catch (DcsException) { await PlainText.SendErrorAsync(ctx, api, 503); return; }
        if (view.Config is not { ModRevision: > 0 } current || JsonNode.Parse(current.RawJson) is not JsonObject data)
        {
            await PlainText.SendErrorAsync(ctx, api, 503);
            return;
        }
        var changed = Merge(data, request);
        StripLocalOnly(data, api);
        if (changed)
        {
            var errors = DynamicConfigParser.ValidateStrict(data);
            if (errors.Count > 0)
            {
                await PlainText.WriteAsync(ctx, api, 400, "invalid configuration: " + string.Join("; ", errors));
                return;
            }
            bool written;
            try { written = await api.Dcs.SetConfigAsync(data.ToJsonString(), current.ModRevision, ctx.RequestAborted); }
            catch (DcsException) { written = false; }
            if (!written) { await PlainText.SendErrorAsync(ctx, api, 409); return; }
            api.Logger.LogInformation("PATCH /config: dynamic configuration changed to {Config}", data.ToJsonString());
        }
        api.Board.RequestWake();
        await api.WriteJsonAsync(ctx, 200, PythonJson.Serialize(data));
    }

    private static async Task PutAsync(HttpContext ctx, RestApiContext api)
    {
        var request = await PlainText.ReadJsonObjectAsync(ctx, api);
        if (request is null) return;
        StripLocalOnly(request, api);
        var errors = DynamicConfigParser.ValidateStrict(request);
        if (errors.Count > 0)
        {
            await PlainText.WriteAsync(ctx, api, 400, "invalid configuration: " + string.Join("; ", errors));
            return;
        }
        try
        {
            var view = await api.Dcs.GetClusterAsync(ctx.RequestAborted);
            var same = view.Config is { } c && JsonNode.Parse(c.RawJson) is { } old && JsonNode.DeepEquals(old, request);
            if (!same && !await api.Dcs.SetConfigAsync(request.ToJsonString(), null, ctx.RequestAborted))
            {
                await PlainText.SendErrorAsync(ctx, api, 502);
                return;
            }
        }
        catch (DcsException)
        {
            await PlainText.SendErrorAsync(ctx, api, 502);
            return;
        }
        api.Board.RequestWake();
        await api.WriteJsonAsync(ctx, 200, PythonJson.Serialize(request));
    }

    /// <summary>Node-local postgresql keys (credentials among them) never enter the shared config key.</summary>
    private static void StripLocalOnly(JsonObject config, RestApiContext api)
    {
        foreach (var removed in LocalOnlyKeys.Strip(config))
            api.Logger.LogWarning("/config: {Key} is local to each node; it is not stored in the DCS", removed);
    }

    /// <summary>Patroni's patch_config: recursive merge, a null value deletes the key; true if anything changed.</summary>
    public static bool Merge(JsonObject target, JsonObject patch)
    {
        var changed = false;
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                changed |= target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                changed |= Merge(targetObject, patchObject);
            }
            else if (target[key] is not { } existing || existing.ToString() != value.ToString() || existing.GetValueKind() != value.GetValueKind())
            {
                target[key] = value.DeepClone();
                changed = true;
            }
        }
        return changed;
    }
}
