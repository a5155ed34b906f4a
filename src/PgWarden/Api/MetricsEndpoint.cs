namespace PgWarden.Api;

/// <summary>GET /metrics: Prometheus text built from the snapshot (compat §2.6).</summary>
public static class MetricsEndpoint
{
    public static void Register(RestRoutes routes, RestApiContext api)
    {
        routes.Map("GET", "metrics", ctx =>
        {
            var status = api.Board.Current;
            var healthy = api.Health.IsHealthy;
            return api.WriteAsync(ctx, 200, api.MetricsBody(status, healthy), "text/plain");
        });
    }
}
