using System.Runtime.InteropServices;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden;

/// <summary>
/// The composition root of one node's agent: the DCS client, the local PostgreSQL, the fast postmaster probe,
/// the REST API and the HA loop, started together and stopped in order.
/// </summary>
public sealed class Agent : IAsyncDisposable
{
    private readonly AgentConfig _config;
    private readonly ILogger _log;
    private readonly IDcs _dcs;
    private readonly RestApiServer _api;
    private readonly PostmasterMonitor _monitor;
    private readonly HaLoop _loop;
    private readonly HttpClient _peerHttp;

    private Agent(AgentConfig config, ILoggerFactory loggers, TimeProvider time)
    {
        _config = config;
        _log = loggers.CreateLogger("PgWarden.Agent");
        var warnings = new List<string>();
        var dynamic = config.Bootstrap?.DcsJson is { } json && JsonNode.Parse(json) is JsonObject o
            ? DynamicConfigParser.Parse(o, warnings)
            : DynamicConfig.Default;
        foreach (var w in warnings) _log.LogWarning("bootstrap.dcs: {Warning}", w);

        _dcs = DcsFactory.ForAgent(config, dynamic, time, loggers);
        var pg = new PostgresInstance(config, loggers.CreateLogger("PgWarden.Postgres"), time);
        var health = new PostmasterHealth();
        var board = new NodeStatusBoard(new NodeStatus { Scope = config.Scope, Name = config.Name, Tags = config.Tags, Dynamic = dynamic });
        _monitor = new PostmasterMonitor(pg, health, time, loggers.CreateLogger("PgWarden.Postgres.Monitor"));
        _monitor.PostmasterDied += (_, _) => board.RequestWake();
        _api = new RestApiServer(config, board, health, _dcs, time, loggers);
        // Peer calls (leader-race probes, switchover checks, failsafe) use the ctl: TLS and credentials (compat §2.12).
        _peerHttp = new HttpClient(RestClientSettings.Handler(config.Ctl, config.RestApi, daemon: true, insecure: false, TimeSpan.FromSeconds(2)))
        {
            Timeout = TimeSpan.FromSeconds(3),
        };
        _peerHttp.DefaultRequestHeaders.Authorization = RestClientSettings.BasicAuth(config.Ctl, config.RestApi);
        FailoverEndpoints.Register(_api.Routes, _api.Context, new PeerProber(_peerHttp));
        ConfigEndpoints.Register(_api.Routes, _api.Context);
        var failsafe = new Ha.Safety.FailsafeState(time);
        var safety = new Ha.Safety.SafetyServices(
            new Ha.Safety.Watchdog(config.Watchdog, loggers.CreateLogger("PgWarden.Watchdog")), failsafe,
            new Ha.Safety.FailsafeClient(_peerHttp, config.Ctl?.Authentication ?? config.RestApi.Authentication));
        FailsafeEndpoint.Register(_api.Routes, _api.Context, failsafe);
        _loop = new HaLoop(config, _dcs, pg, new PeerProber(_peerHttp), board, time, loggers.CreateLogger<HaLoop>(), dynamic, health, safety);
        OperationEndpoints.Register(_api.Routes, _api.Context, _loop.Operations);
        // POST /reload and SIGHUP re-read the YAML file the agent was started from, as Patroni's reload_config.
        if (config.SourcePath is { } path)
            _loop.LocalConfigSource = () => ConfigLoader.Load(path, AgentCommand.EnvironmentVariables(), new List<string>());
    }

    public static Task<Agent> CreateAsync(AgentConfig config, ILoggerFactory loggers, TimeProvider time, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(new Agent(config, loggers, time));
    }

    public async Task<int> RunAsync(CancellationToken ct)
    {
        try
        {
            await _api.StartAsync(ct);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException)
        {
            _log.LogCritical("cannot serve the REST API on restapi.listen {Listen}: {Message}", _config.RestApi.Listen, e.Message);
            return 1;
        }
        _log.LogInformation("PgWarden {Version} agent for member {Name} of cluster {Scope}; REST API on {Listen}",
            AgentVersion.Current, _config.Name, _config.Scope, _config.RestApi.Listen);

        // SIGHUP: re-read the local configuration and reload PostgreSQL, as Patroni does.
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => { ctx.Cancel = true; _loop.Operations.RequestReload(); });
        using var monitorStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var monitor = _monitor.RunAsync(monitorStop.Token);
        int exitCode;
        try
        {
            exitCode = await _loop.RunAsync(ct);
        }
        finally
        {
            await monitorStop.CancelAsync();
            try { await monitor; } catch (OperationCanceledException) { }
            await _api.StopAsync(CancellationToken.None);
        }
        _log.LogInformation("agent stopped (exit code {ExitCode})", exitCode);
        return exitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _dcs.DisposeAsync();
        _peerHttp.Dispose();
    }
}
