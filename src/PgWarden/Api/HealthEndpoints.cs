using Microsoft.AspNetCore.Http;

namespace PgWarden.Api;

/// <summary>
/// Health checks: GET on any unclaimed path (status JSON with the verdict code), HEAD/OPTIONS (status line only,
/// for HAProxy), /liveness and /readiness.
/// </summary>
public static class HealthEndpoints
{
    public static void Register(RestRoutes routes, RestApiContext api)
    {
        routes.Map("GET", "liveness", ctx => RestApiContext.WriteStatusOnly(ctx,
            HealthRules.Liveness(api.Board.Current, api.Health.IsHealthy, api.Time.GetUtcNow())));
        routes.Map("GET", "readiness", ctx => RestApiContext.WriteStatusOnly(ctx,
            HealthRules.Readiness(api.Board.Current, api.Health.IsHealthy, api.Time.GetUtcNow())));
    }

    /// <summary>The fallback for GET: Patroni's generic do_GET (unknown paths answer 503 with the status JSON).</summary>
    public static Task GetAsync(HttpContext ctx, RestApiContext api)
    {
        var status = api.Board.Current;
        var healthy = api.Health.IsHealthy;
        var code = HealthRules.StatusCode(ctx.Request.Path.Value ?? "/", RestApiContext.QueryOf(ctx.Request), status,
            healthy, api.Time.GetUtcNow());
        return api.WriteAsync(ctx, code, api.StatusBody(status, healthy), RestApiContext.JsonContentType);
    }

    /// <summary>HEAD and OPTIONS on any path: the health verdict as a bare status line.</summary>
    public static Task StatusOnlyAsync(HttpContext ctx, RestApiContext api)
    {
        var code = HealthRules.StatusCode(ctx.Request.Path.Value ?? "/", RestApiContext.QueryOf(ctx.Request),
            api.Board.Current, api.Health.IsHealthy, api.Time.GetUtcNow());
        return RestApiContext.WriteStatusOnly(ctx, code);
    }
}
