using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Ha.Operations;
using PgWarden.IntegrationTests.Api;
using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Security;

/// <summary>
/// A real RestApiServer with every write endpoint registered, on an address of this developer's NET: basic auth on
/// every unsafe endpoint, the allowlist (IPs, CIDRs, host names, members' api_url hosts), and bad input of every kind
/// answered with a 4xx and a message, never a 500.
/// </summary>
public sealed class RestApiSecurityTests : IAsyncLifetime
{
    private static readonly string Net = AgentCluster.Net;
    private static string Ip(int last) => $"{Net}.{last}";
    private const string User = "admin";
    private const string Password = "s3cret-rest-pw";

    private readonly List<RestApiServer> _servers = [];
    private readonly WritableDcs _dcs = new();
    private readonly HttpClient _peerHttp = new() { Timeout = TimeSpan.FromSeconds(3) };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        _peerHttp.Dispose();
    }

    private async Task<string> StartAsync(int last, Func<RestApiConfig, RestApiConfig> configure)
    {
        var listen = $"{Ip(last)}:8008";
        var rest = configure(new RestApiConfig { Listen = listen, ConnectAddress = listen });
        var config = new AgentConfig
        {
            Scope = "demo",
            Name = "node2",
            RestApi = rest,
            Postgresql = new PostgresqlConfig
            {
                Listen = Ip(last) + ":5432", ConnectAddress = Ip(last) + ":5432", DataDir = "/nonexistent",
                Authentication = new PgAuthentication { Superuser = new PgUser { Username = "postgres" }, Replication = new PgUser { Username = "replicator" } },
            },
        };
        var status = Nodes.Leader();
        var board = new NodeStatusBoard(status);
        _dcs.View = status.View!;
        var health = new PostmasterHealth();
        health.Set(true, DateTimeOffset.UtcNow);
        var server = new RestApiServer(config, board, health, _dcs, TimeProvider.System, NullLoggerFactory.Instance);
        FailoverEndpoints.Register(server.Routes, server.Context, new PeerProber(_peerHttp));
        ConfigEndpoints.Register(server.Routes, server.Context);
        OperationEndpoints.Register(server.Routes, server.Context, new OperationQueue());
        await server.StartAsync(CancellationToken.None);
        _servers.Add(server);
        return listen;
    }

    /// <summary>A client whose connections leave from the given source address (loopback has many).</summary>
    internal static HttpClient ClientFrom(string source) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<(int Code, string Body, HttpResponseMessage Response)> Send(HttpClient http, HttpMethod method, string url,
        string? body = null, string? user = null, string? password = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (user is not null)
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>Every unsafe endpoint of compat §2.12 that PgWarden serves, with a body it would accept.</summary>
    public static TheoryData<string, string, string?> UnsafeEndpoints => new()
    {
        { "PATCH", "/config", "{\"ttl\": 30}" },
        { "PUT", "/config", "{\"ttl\": 30}" },
        { "POST", "/reload", null },
        { "POST", "/restart", "{\"schedule\": \"2099-01-01T00:00:00+00:00\"}" },
        { "POST", "/reinitialize", "{}" },
        { "POST", "/failover", "{\"candidate\": \"node1\"}" },
        { "POST", "/switchover", "{\"leader\": \"node2\"}" },
        { "DELETE", "/restart", null },
        { "DELETE", "/switchover", null },
    };

    [Theory]
    [MemberData(nameof(UnsafeEndpoints))]
    public async Task Every_unsafe_endpoint_answers_401_without_or_with_wrong_credentials(string method, string path, string? body)
    {
        var listen = await StartAsync(61, r => r with { Authentication = new Credentials(User, Password) });
        using var http = ClientFrom(Ip(62));
        var url = $"http://{listen}{path}";

        var (code, text, response) = await Send(http, new HttpMethod(method), url, body);
        Assert.Equal(401, code);
        Assert.Equal("no auth header received", text);
        Assert.Equal("Basic realm=\"Patroni\"", response.Headers.WwwAuthenticate.ToString());

        (code, text, response) = await Send(http, new HttpMethod(method), url, body, User, "wrong");
        Assert.Equal(401, code);
        Assert.Equal("not authenticated", text);
        Assert.Equal("Basic realm=\"Patroni\"", response.Headers.WwwAuthenticate.ToString());

        (code, text, _) = await Send(http, new HttpMethod(method), url, body, "someone", Password);
        Assert.Equal(401, code);

        // The right credentials get past the check to the endpoint itself (whatever it then answers, never 401/403/500).
        (code, text, _) = await Send(http, new HttpMethod(method), url, body, User, Password);
        Assert.True(code is not (401 or 403 or 500), $"{method} {path} with credentials: {code} {text}");
    }

    [Theory]
    [InlineData("GET", "/patroni")]
    [InlineData("GET", "/config")]
    [InlineData("GET", "/cluster")]
    [InlineData("HEAD", "/")]
    [InlineData("OPTIONS", "/")]
    public async Task Safe_methods_stay_open_with_authentication_and_allowlist_configured(string method, string path)
    {
        var listen = await StartAsync(63, r => r with { Authentication = new Credentials(User, Password), Allowlist = [Ip(99)] });
        using var http = ClientFrom(Ip(62));
        var (code, _, _) = await Send(http, new HttpMethod(method), $"http://{listen}{path}");
        Assert.Equal(200, code);
    }

    [Fact]
    public async Task The_allowlist_admits_listed_ips_cidrs_and_host_names_and_denies_the_rest_with_403()
    {
        var listen = await StartAsync(64, r => r with
        {
            Authentication = new Credentials(User, Password),
            Allowlist = [Ip(70), $"{Net}.72/30", "localhost"],
        });
        var url = $"http://{listen}/reload";
        foreach (var (source, allowed) in new[] { (Ip(70), true), (Ip(73), true), ("127.0.0.1", true), (Ip(71), false), (Ip(76), false) })
        {
            using var http = ClientFrom(source);
            var (code, text, _) = await Send(http, HttpMethod.Post, url, null, User, Password);
            if (allowed) Assert.Equal(202, code);
            else
            {
                Assert.Equal(403, code);
                Assert.Equal("Access is denied", text);
            }
        }
        // The allowlist is checked before the credentials, as in Patroni: a stranger learns nothing about them.
        using var stranger = ClientFrom(Ip(71));
        Assert.Equal(403, (await Send(stranger, HttpMethod.Post, url)).Code);
    }

    [Fact]
    public async Task Allowlist_include_members_admits_the_hosts_of_the_members_api_urls()
    {
        // Nodes.Leader()'s view has members whose api_url hosts are 127.0.0.11, .12 and .13.
        var listen = await StartAsync(65, r => r with { AllowlistIncludeMembers = true, Allowlist = [Ip(80)] });
        foreach (var (source, expected) in new[] { ("127.0.0.12", 202), (Ip(80), 202), ("127.0.0.14", 403), (Ip(81), 403) })
        {
            using var http = ClientFrom(source);
            Assert.Equal(expected, (await Send(http, HttpMethod.Post, $"http://{listen}/reload")).Code);
        }
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        // malformed JSON
        { "PATCH", "/config", "{\"ttl\": " },
        { "PUT", "/config", "not json at all" },
        { "POST", "/switchover", "{\"leader\": \"node2\"" },
        { "POST", "/failover", "[1, 2, 3]" },
        { "POST", "/restart", "{{{{" },
        { "POST", "/reinitialize", "\"just a string\"" },
        { "POST", "/switchover", new string('[', 5000) + new string(']', 5000) },
        { "POST", "/switchover", "{\"leader\": \"\u0000\uffff\"}" },
        // wrongly typed fields
        { "POST", "/switchover", "{\"leader\": 5, \"candidate\": 5}" },
        { "POST", "/switchover", "{\"leader\": \"node2\", \"candidate\": \"node1\", \"scheduled_at\": []}" },
        { "POST", "/switchover", "{\"leader\": \"node2\", \"scheduled_at\": {\"a\": 1}}" },
        { "POST", "/switchover", "{\"leader\": [\"node2\"], \"candidate\": {\"x\": null}}" },
        { "POST", "/failover", "{\"candidate\": 5}" },
        { "POST", "/failover", "{\"candidate\": null}" },
        { "POST", "/failover", "{\"candidate\": true, \"scheduled_at\": 12345}" },
        { "POST", "/restart", "{\"role\": 5}" },
        { "POST", "/restart", "{\"schedule\": []}" },
        { "POST", "/restart", "{\"schedule\": 17}" },
        { "POST", "/restart", "{\"timeout\": []}" },
        { "POST", "/restart", "{\"timeout\": \"-5\"}" },
        { "POST", "/restart", "{\"postgres_version\": []}" },
        { "POST", "/restart", "{\"postgres_version\": {\"a\": 1}}" },
        { "POST", "/restart", "{\"restart_pending\": \"maybe\", \"role\": null}" },
        { "POST", "/reinitialize", "{\"force\": []}" },
        { "POST", "/reinitialize", "{\"force\": {\"a\": 1}}" },
        { "PATCH", "/config", "{\"ttl\": \"abc\"}" },
        { "PATCH", "/config", "{\"ttl\": []}" },
        { "PATCH", "/config", "{\"loop_wait\": -1, \"retry_timeout\": {}}" },
        { "PATCH", "/config", "{\"postgresql\": 5}" },
        { "PATCH", "/config", "{\"postgresql\": {\"parameters\": []}}" },
        { "PATCH", "/config", "{\"postgresql\": {\"parameters\": {\"max_connections\": {\"x\": 1}}}}" },
        { "PATCH", "/config", "{\"synchronous_mode\": [1], \"maximum_lag_on_failover\": \"lots\"}" },
        { "PATCH", "/config", "{\"standby_cluster\": \"yes\", \"slots\": 5}" },
        { "PUT", "/config", "{\"ttl\": {\"nested\": true}}" },
        { "PUT", "/config", "{\"postgresql\": [], \"pause\": \"sometimes\"}" },
        // unknown members
        { "POST", "/switchover", "{\"leader\": \"node2\", \"candidate\": \"ghost\"}" },
        { "POST", "/switchover", "{\"leader\": \"ghost\", \"candidate\": \"node1\"}" },
        { "POST", "/failover", "{\"candidate\": \"ghost\"}" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_bodies_get_a_4xx_with_a_message_never_a_500(string method, string path, string body)
    {
        var listen = await StartAsync(66, r => r);
        using var http = ClientFrom(Ip(62));
        var (code, text, _) = await Send(http, new HttpMethod(method), $"http://{listen}{path}", body);
        Assert.True(code is >= 400 and < 500, $"{method} {path} {body[..Math.Min(body.Length, 80)]}: {code} {text}");
        Assert.False(string.IsNullOrWhiteSpace(text), $"{method} {path}: {code} without a message");
        // The server is still serving.
        Assert.Equal(200, (await Send(http, HttpMethod.Get, $"http://{listen}/patroni")).Code);
    }

    [Theory]
    [InlineData("POST", "/switchover", "\"candidate does not exists\"")]
    [InlineData("POST", "/failover", "\"candidate does not exists\"")]
    public async Task Unknown_members_are_named_in_a_412(string method, string path, string expected)
    {
        var listen = await StartAsync(67, r => r);
        using var http = ClientFrom(Ip(62));
        var (code, text, _) = await Send(http, new HttpMethod(method), $"http://{listen}{path}",
            "{\"leader\": \"node2\", \"candidate\": \"ghost\"}");
        Assert.Equal(412, code);
        Assert.Equal(expected.Trim('"'), text);
    }

    [Theory]
    [InlineData("POST", "/switchover", false)]
    [InlineData("PATCH", "/config", false)]
    [InlineData("POST", "/restart", true)]
    [InlineData("PUT", "/config", true)]
    public async Task Bodies_over_one_mebibyte_are_refused_with_413(string method, string path, bool chunked)
    {
        var listen = await StartAsync(68, r => r);
        using var http = ClientFrom(Ip(62));
        var big = "{\"leader\": \"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(new HttpMethod(method), $"http://{listen}{path}");
        request.Content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)))
            : new StringContent(big, Encoding.UTF8, "application/json");
        if (chunked) request.Headers.TransferEncodingChunked = true;
        int code;
        string text;
        try
        {
            using var response = await http.SendAsync(request);
            (code, text) = ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            // The server may answer 413 and close before the client has finished sending; the answer is then lost.
            (code, text) = (413, "connection closed by the server: " + e.Message);
        }
        Assert.Equal(413, code);
        Assert.NotEmpty(text);
        Assert.Equal(200, (await Send(http, HttpMethod.Get, $"http://{listen}/patroni")).Code);
    }

    [Fact]
    public async Task A_body_just_under_the_limit_is_read_and_judged_on_its_content()
    {
        var listen = await StartAsync(69, r => r);
        using var http = ClientFrom(Ip(62));
        var body = "{\"leader\": \"" + new string('x', 1000 * 1000) + "\"}";
        var (code, text, _) = await Send(http, HttpMethod.Post, $"http://{listen}/switchover", body);
        Assert.Equal(412, code);
        Assert.Equal("leader name does not match", text);
    }
}

/// <summary>A DCS that serves one fixed view and accepts (and forgets) every write: enough for the API's own checks.</summary>
internal sealed class WritableDcs : IDcs
{
    private volatile ClusterView _view = ClusterView.Empty;
    public ClusterView View { get => _view; set => _view = value; }
    public Task<ClusterView> GetClusterAsync(CancellationToken ct) => Task.FromResult(View);
    public Task<bool> AttemptToAcquireLeaderAsync(CancellationToken ct) => Task.FromResult(false);
    public Task TakeLeaderAsync(CancellationToken ct) => Task.CompletedTask;
    public Task<bool> UpdateLeaderAsync(LeaderKey? current, CancellationToken ct) => Task.FromResult(false);
    public Task<bool> DeleteLeaderAsync(long? lastLsn, CancellationToken ct) => Task.FromResult(false);
    public Task TouchMemberAsync(MemberData data, CancellationToken ct) => Task.CompletedTask;
    public Task<bool> InitializeAsync(bool create, string value, CancellationToken ct) => Task.FromResult(false);
    public Task CancelInitializationAsync(CancellationToken ct) => Task.CompletedTask;
    public Task<bool> SetConfigAsync(string json, long? version, CancellationToken ct) => Task.FromResult(true);
    public Task<bool> SetFailoverAsync(string json, long? version, CancellationToken ct) => Task.FromResult(true);
    public Task<bool> SetSyncAsync(string? json, long? version, CancellationToken ct) => Task.FromResult(true);
    public Task SetHistoryAsync(string json, CancellationToken ct) => Task.CompletedTask;
    public Task WriteStatusAsync(long optime, IReadOnlyDictionary<string, long>? slots, CancellationToken ct) => Task.CompletedTask;
    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => Task.FromResult(false);
    public void Configure(int ttl, int loopWait, int retryTimeout) { }
    public Task ResetSessionAsync(CancellationToken ct) => Task.CompletedTask;
    public Task DeleteClusterAsync(CancellationToken ct) => Task.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
