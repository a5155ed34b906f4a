using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.Api;

/// <summary>
/// The REST API on Kestrel, bound exactly to restapi.listen. One terminal middleware dispatches like Patroni
/// (method + first path segment, GET/HEAD/OPTIONS fall back to the health check); every answer comes from the
/// published NodeStatus snapshot, the postmaster probe, or (for /cluster, /history, /config) a DCS read.
/// Endpoint groups live in their own files and register on <see cref="RestRoutes"/>; write endpoints
/// (switchover, restart, ...) are added the same way.
/// </summary>
public sealed class RestApiServer : IAsyncDisposable
{
    private readonly AgentConfig _config;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly RestRoutes _routes = new();

    /// <summary>The largest request body accepted (1 MiB); larger ones get 413.</summary>
    public const long MaxBodyBytes = 1024 * 1024;
    private WebApplication? _app;

    public RestApiServer(AgentConfig config, NodeStatusBoard board, PostmasterHealth health, IDcs dcs, TimeProvider time,
        ILoggerFactory loggers)
    {
        _config = config;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PgWarden.Api");
        Context = new RestApiContext(config, board, health, dcs, time, _logger);
        HealthEndpoints.Register(_routes, Context);
        InfoEndpoints.Register(_routes, Context);
        MetricsEndpoint.Register(_routes, Context);
    }

    /// <summary>Shared state and helpers for endpoint groups registered from outside (write endpoints).</summary>
    public RestApiContext Context { get; }

    /// <summary>Where more endpoint groups register (before <see cref="StartAsync"/>).</summary>
    public RestRoutes Routes => _routes;

    /// <summary>Bind restapi.listen and start serving; throws if the address cannot be bound.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_app is not null) throw new InvalidOperationException("The REST API server is already started.");
        var endpoints = await ResolveListenAsync(_config.RestApi.Listen, ct);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        var https = RestApiTls.Enabled(_config.RestApi) ? RestApiTls.ServerOptions(_config.RestApi) : null;
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            // A write body is a few hundred bytes; anything near this is an attack or a mistake (413, never buffered).
            o.Limits.MaxRequestBodySize = MaxBodyBytes;
            o.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            foreach (var ep in endpoints)
            {
                if (https is null) o.Listen(ep);
                else o.Listen(ep, l => l.UseHttps(https));
            }
        });
        // Health checks arrive on fresh connections once a second per HAProxy backend. Dispatching each one from the
        // socket thread to the thread pool and back cost several thread wake-ups per request; our handlers never
        // block (health answers from state kept in memory, the rest awaits), so they run on the socket thread.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(_loggers));
        // Kestrel's per-connection chatter is noise next to the HA log; keep its warnings and errors only.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.SetMinimumLevel(LogLevel.Information);

        var app = builder.Build();
        app.Run(DispatchAsync);
        await app.StartAsync(ct);
        _app = app;
        if (https?.ServerCertificate is { } cert) SecurityLog.Https(_logger, cert.Subject, cert.SerialNumber, _config.RestApi.VerifyClient);
        _logger.LogInformation("REST API listening on {Listen}", _config.RestApi.Listen);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null) return;
        try
        {
            await app.StopAsync(ct);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>Serve until ct is cancelled, then stop (with a short grace for in-flight requests).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await StartAsync(ct);
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await StopAsync(grace.Token);
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await StopAsync(grace.Token);
    }

    private async Task DispatchAsync(HttpContext ctx)
    {
        try
        {
            var method = ctx.Request.Method;
            var segment = RestRoutes.FirstSegment(ctx.Request.Path.Value ?? "/");
            if (_routes.TryFind(method, segment, out var handler))
            {
                var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
                if (!safe)
                {
                    // Every unsafe route is guarded here, whichever file registered it (compat §2.12).
                    if (!await WriteAccess.CheckAsync(ctx, Context)) return;
                    if (ctx.Request.ContentLength > MaxBodyBytes)
                    {
                        await TooLarge(ctx);
                        return;
                    }
                }
                await handler(ctx);
            }
            else if (HttpMethods.IsGet(method))
                await HealthEndpoints.GetAsync(ctx, Context);
            else if (HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
                await HealthEndpoints.StatusOnlyAsync(ctx, Context);
            else
                await RestApiContext.WriteStatusOnly(ctx, StatusCodes.Status501NotImplemented);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
        catch (BadHttpRequestException e)
        {
            // A chunked body over the limit, a truncated body, ...: the client's fault, never a 500.
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { if (!ctx.Response.HasStarted) await TooLarge(ctx); }
            else
            {
                SecurityLog.BadRequest(_logger, ctx.Request.Method, ctx.Request.Path.Value ?? "/", Remote(ctx), e.Message);
                if (!ctx.Response.HasStarted) await PlainText.WriteAsync(ctx, Context, e.StatusCode, "Bad Request: " + e.Message);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "{Method} {Path} failed", ctx.Request.Method, ctx.Request.Path.Value);
            if (!ctx.Response.HasStarted) await RestApiContext.WriteStatusOnly(ctx, StatusCodes.Status500InternalServerError);
        }
    }

    private Task TooLarge(HttpContext ctx)
    {
        SecurityLog.BodyTooLarge(_logger, ctx.Request.Method, ctx.Request.Path.Value ?? "/", Remote(ctx), MaxBodyBytes);
        ctx.Response.Headers.Connection = "close";
        return PlainText.WriteAsync(ctx, Context, StatusCodes.Status413PayloadTooLarge,
            $"Request body too large: the limit is {MaxBodyBytes} bytes");
    }

    private static string Remote(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "?";

    /// <summary>
    /// restapi.listen is "host:port" (IPv6 as "[::1]:8008"); "*", "" and "0.0.0.0" mean every IPv4 address, "::"
    /// every address; a name is resolved.
    /// </summary>
    public static async Task<IReadOnlyList<IPEndPoint>> ResolveListenAsync(string listen, CancellationToken ct)
    {
        var colon = listen.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(listen.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
            throw new ConfigException("restapi.listen", $"restapi.listen '{listen}' is not host:port (expected e.g. 127.0.0.1:8008).");
        var host = listen[..colon].Trim().Trim('[', ']');
        if (host is "" or "*" or "0.0.0.0") return [new IPEndPoint(IPAddress.Any, port)];
        if (IPAddress.TryParse(host, out var ip)) return [new IPEndPoint(ip, port)];
        var addresses = await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0)
            throw new ConfigException("restapi.listen", $"restapi.listen host '{host}' does not resolve to any address.");
        return [.. addresses.Distinct().Select(a => new IPEndPoint(a, port))];
    }

    /// <summary>Hands Kestrel's log records to the agent's own logger factory.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
