using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Api;

/// <summary>One real RestApiServer on 127.0.0.41:8008 for the whole class (the tests in a class run one at a time).</summary>
public sealed class RestApiServerFixture : IAsyncLifetime
{
    public const string Listen = "127.0.0.41:8008";
    public NodeStatusBoard Board { get; } = new(Nodes.Leader());
    public PostmasterHealth Health { get; } = new();
    public FakeDcs Dcs { get; } = new();
    public HttpClient Http { get; } = new() { BaseAddress = new Uri("http://" + Listen), Timeout = TimeSpan.FromSeconds(10) };
    public RestApiServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Health.Set(true, DateTimeOffset.UtcNow);
        var config = new AgentConfig
        {
            Scope = "demo",
            Name = "node2",
            RestApi = new RestApiConfig
            {
                Listen = Listen,
                ConnectAddress = Listen,
                HttpExtraHeaders = new Dictionary<string, string> { ["X-Test"] = "yes" },
            },
            Postgresql = new PostgresqlConfig
            {
                Listen = "127.0.0.41:5432",
                ConnectAddress = "127.0.0.41:5432",
                DataDir = "/nonexistent",
                Authentication = new PgAuthentication
                {
                    Superuser = new PgUser { Username = "postgres" },
                    Replication = new PgUser { Username = "replicator" },
                },
            },
        };
        Server = new RestApiServer(config, Board, Health, Dcs, TimeProvider.System, NullLoggerFactory.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Server.StartAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

public sealed class RestApiServerTests(RestApiServerFixture f) : IClassFixture<RestApiServerFixture>
{
    private void Use(NodeStatus status, bool healthy = true)
    {
        f.Board.Publish(status);
        f.Health.Set(healthy, DateTimeOffset.UtcNow);
        f.Dcs.View = status.View ?? ClusterView.Empty;
        f.Dcs.Unreachable = false;
    }

    private async Task<(int Code, string Body, HttpResponseMessage Response)> Send(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        var response = await f.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Theory]
    [InlineData("/", 200, 503)]
    [InlineData("/primary", 200, 503)]
    [InlineData("/master", 200, 503)]
    [InlineData("/read-write", 200, 503)]
    [InlineData("/leader", 200, 503)]
    [InlineData("/replica", 503, 200)]
    [InlineData("/replica?lag=1MB", 503, 200)]
    [InlineData("/replica?tag_zone=eu", 503, 503)]
    [InlineData("/read-only", 200, 200)]
    [InlineData("/health", 200, 200)]
    [InlineData("/async", 503, 200)]
    [InlineData("/standby-leader", 503, 503)]
    [InlineData("/no-such-thing", 503, 503)]
    public async Task Health_paths_answer_like_patroni_with_the_status_json(string path, int leaderCode, int replicaCode)
    {
        Use(Nodes.Leader());
        var (code, body, response) = await Send(HttpMethod.Get, path);
        Assert.Equal(leaderCode, code);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("master", (string?)JsonNode.Parse(body)!["role"]);

        Use(Nodes.Replica());
        (code, body, _) = await Send(HttpMethod.Get, path);
        Assert.Equal(replicaCode, code);
        Assert.Equal("replica", (string?)JsonNode.Parse(body)!["role"]);
    }

    [Fact]
    public async Task Head_and_options_answer_the_status_line_only()
    {
        Use(Nodes.Leader());
        var (code, body, response) = await Send(HttpMethod.Head, "/primary");
        Assert.Equal(200, code);
        Assert.Equal("", body);
        (code, body, response) = await Send(HttpMethod.Options, "/replica");
        Assert.Equal(503, code);
        Assert.Equal("", body);
        Assert.Equal(0, response.Content.Headers.ContentLength);

        // What HAProxy sees on the wire: a status line, a few headers, no body.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Parse("127.0.0.41"), 8008);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("OPTIONS /primary HTTP/1.0\r\n\r\n"));
        var raw = await new StreamReader(stream, Encoding.ASCII).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", raw, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("Server:", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patroni_endpoint_serves_the_status_document()
    {
        Use(Nodes.Leader());
        var (code, body, response) = await Send(HttpMethod.Get, "/patroni");
        Assert.Equal(200, code);
        Assert.StartsWith("{\"state\": \"running\", \"postmaster_start_time\": \"2026-11-22 03:43:58.443679+00:00\", \"role\": \"master\"",
            body, StringComparison.Ordinal);
        var doc = JsonNode.Parse(body)!;
        Assert.Equal(67301872, (long)doc["xlog"]!["location"]!);
        Assert.Equal("3.0.2", (string?)doc["patroni"]!["version"]);
        Assert.Equal("demo", (string?)doc["patroni"]!["scope"]);
        Assert.Equal("yes", response.Headers.GetValues("X-Test").Single());

        Use(Nodes.Replica());
        (code, body, _) = await Send(HttpMethod.Get, "/patroni");
        Assert.Equal(200, code);
        Assert.Equal(67301872, (long)JsonNode.Parse(body)!["xlog"]!["replayed_location"]!);
    }

    [Fact]
    public async Task Unhealthy_postmaster_turns_primary_to_503_immediately()
    {
        Use(Nodes.Leader());
        Assert.Equal(200, (await Send(HttpMethod.Get, "/primary")).Code);
        f.Health.Set(false, DateTimeOffset.UtcNow);
        var (code, body, _) = await Send(HttpMethod.Get, "/primary");
        Assert.Equal(503, code);
        Assert.Equal("unknown", (string?)JsonNode.Parse(body)!["state"]);
        Assert.Equal(503, (await Send(HttpMethod.Head, "/primary")).Code);
        Assert.Equal(503, (await Send(HttpMethod.Get, "/health")).Code);
        f.Health.Set(true, DateTimeOffset.UtcNow);
        Assert.Equal(200, (await Send(HttpMethod.Get, "/primary")).Code);
    }

    [Fact]
    public async Task Metrics_are_prometheus_text()
    {
        Use(Nodes.Leader());
        var (code, body, response) = await Send(HttpMethod.Get, "/metrics");
        Assert.Equal(200, code);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("patroni_master{scope=\"demo\"} 1\n", body, StringComparison.Ordinal);
        Assert.Contains("patroni_postgres_server_version {scope=\"demo\"} 150018\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Liveness_and_readiness_have_no_body()
    {
        Use(Nodes.Replica());
        var (code, body, _) = await Send(HttpMethod.Get, "/liveness");
        Assert.Equal(200, code);
        Assert.Equal("", body);
        (code, body, _) = await Send(HttpMethod.Get, "/readiness");
        Assert.Equal(200, code);
        Assert.Equal("", body);
        Use(Nodes.Replica() with { NextCycleDue = DateTimeOffset.UtcNow.AddMinutes(-5) });
        Assert.Equal(503, (await Send(HttpMethod.Get, "/liveness")).Code);
    }

    [Fact]
    public async Task Cluster_history_and_config_come_from_a_fresh_dcs_read()
    {
        Use(Nodes.Leader());
        var (code, body, _) = await Send(HttpMethod.Get, "/cluster");
        Assert.Equal(200, code);
        Assert.StartsWith("{\"members\": [{\"name\": \"node1\", \"role\": \"replica\"", body, StringComparison.Ordinal);

        f.Dcs.View = f.Dcs.View with { History = [new HistoryEntry(1, 67302224, "no recovery target specified", "2026-11-22T03:44:28.544242+00:00", "node1")] };
        (code, body, _) = await Send(HttpMethod.Get, "/history");
        Assert.Equal(200, code);
        Assert.Equal("[[1, 67302224, \"no recovery target specified\", \"2026-11-22T03:44:28.544242+00:00\", \"node1\"]]", body);

        (code, body, _) = await Send(HttpMethod.Get, "/config");
        Assert.Equal(200, code);
        Assert.Equal("{\"ttl\": 10, \"loop_wait\": 2, \"postgresql\": {\"use_slots\": true}}", body);

        f.Dcs.View = f.Dcs.View with { Config = null };
        Assert.Equal(502, (await Send(HttpMethod.Get, "/config")).Code);

        f.Dcs.Unreachable = true;
        Assert.Equal(502, (await Send(HttpMethod.Get, "/cluster")).Code);
    }

    [Fact]
    public async Task Unsupported_methods_get_501()
    {
        Use(Nodes.Leader());
        Assert.Equal(501, (await Send(HttpMethod.Delete, "/patroni")).Code);
    }
}

/// <summary>A leader (node2) and a replica (node1) of a healthy 3-node cluster, as the HA loop would publish them.</summary>
internal static class Nodes
{
    private static readonly DynamicConfig Dynamic = new() { Ttl = 10, LoopWait = 2, RetryTimeout = 3 };

    private static Member M(string name, string role) => new(name, new MemberData
    {
        ConnUrl = $"postgres://127.0.0.1{name[^1]}:5432/postgres",
        ApiUrl = $"http://127.0.0.1{name[^1]}:8008/patroni",
        State = "running",
        Role = role,
        XlogLocation = 67301872,
        Timeline = 1,
    }, 1, 1);

    private static ClusterView View() => new()
    {
        Initialize = "7710836552808695120",
        Config = new VersionedConfig(Dynamic, 3, "{\"ttl\":10,\"loop_wait\":2,\"postgresql\":{\"use_slots\":true}}"),
        Leader = new LeaderKey("node2", 5, 1),
        Members = [M("node1", "replica"), M("node2", "master"), M("node3", "replica")],
        Status = new ClusterStatus(67301872, new Dictionary<string, long>()),
        History = [],
    };

    public static NodeStatus Leader() => new()
    {
        Scope = "demo",
        Name = "node2",
        PgState = "running",
        Role = "master",
        Dynamic = Dynamic,
        View = View(),
        SystemIdentifier = "7710836552808695120",
        DcsLastSeen = DateTimeOffset.UtcNow,
        // Far in the future so the lock counts as fresh however slow the test machine is.
        LastLeaderRenewal = DateTimeOffset.UtcNow.AddHours(1),
        NextCycleDue = DateTimeOffset.UtcNow.AddHours(1),
        Probe = new PostgresProbe
        {
            InRecovery = false,
            ServerVersion = 150018,
            PostmasterStartTime = new DateTimeOffset(2026, 11, 22, 3, 43, 58, TimeSpan.Zero).AddTicks(4436790),
            Timeline = 1,
            WalFlushLsn = 67301872,
        },
    };

    public static NodeStatus Replica() => Leader() with
    {
        Name = "node1",
        Role = "replica",
        LastLeaderRenewal = null,
        Probe = new PostgresProbe
        {
            InRecovery = true,
            ServerVersion = 150018,
            Timeline = 1,
            ReceiveLsn = 67301872,
            ReplayLsn = 67301872,
        },
    };
}
