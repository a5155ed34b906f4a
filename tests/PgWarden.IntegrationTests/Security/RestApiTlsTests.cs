using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Ha;
using PgWarden.Ha.Operations;
using PgWarden.IntegrationTests.Api;
using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Security;

/// <summary>
/// The REST API over HTTPS with certificates openssl makes for the test (server key encrypted with keyfile_password):
/// verify_client optional and required, the CLI's verification rules (ca, host name, insecure) and the daemon's
/// (never the host name; nothing at all without ctl.certfile), and api_url becoming https://.
/// </summary>
public sealed class RestApiTlsTests : IAsyncLifetime
{
    private static string Ip(int last) => $"{AgentCluster.Net}.{last}";
    private readonly TestCertificates _certs = new();
    private readonly List<RestApiServer> _servers = [];

    public Task InitializeAsync()
    {
        _certs.MakeCa("ca");
        _certs.MakeCa("otherca");
        _certs.MakeSigned("server", "ca", $"subjectAltName=IP:{Ip(91)},IP:{Ip(92)},IP:{Ip(93)}", keyPassword: "key-pw");
        _certs.MakeSigned("client", "ca", "extendedKeyUsage=clientAuth");
        _certs.MakeSigned("stranger", "otherca", "extendedKeyUsage=clientAuth");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        _certs.Dispose();
    }

    private RestApiConfig Rest(int last, string verify) => new()
    {
        Listen = $"{Ip(last)}:8008",
        ConnectAddress = $"{Ip(last)}:8008",
        CertFile = _certs.P("server.crt"),
        KeyFile = _certs.P("server.key"),
        KeyFilePassword = "key-pw",
        CaFile = _certs.P("ca.crt"),
        VerifyClient = verify,
        Authentication = new Credentials("admin", "tls-rest-pw"),
    };

    private async Task<string> StartAsync(RestApiConfig rest)
    {
        var config = new AgentConfig
        {
            Scope = "demo", Name = "node2", RestApi = rest,
            Postgresql = new PostgresqlConfig
            {
                Listen = "127.0.0.1:5432", ConnectAddress = "127.0.0.1:5432", DataDir = "/nonexistent",
                Authentication = new PgAuthentication { Superuser = new PgUser { Username = "postgres" }, Replication = new PgUser { Username = "replicator" } },
            },
        };
        var health = new PostmasterHealth();
        health.Set(true, DateTimeOffset.UtcNow);
        var server = new RestApiServer(config, new NodeStatusBoard(Nodes.Leader()), health, new WritableDcs { View = Nodes.Leader().View! },
            TimeProvider.System, NullLoggerFactory.Instance);
        OperationEndpoints.Register(server.Routes, server.Context, new OperationQueue());
        await server.StartAsync(CancellationToken.None);
        _servers.Add(server);
        Assert.Equal($"https://{rest.ConnectAddress}/patroni", MemberKeyBuilder.ApiUrl(config));
        return $"https://{rest.ConnectAddress}";
    }

    private CtlConfig Ctl(string? client, bool insecure = false, string? ca = "ca") => new()
    {
        CaCert = ca is null ? null : _certs.P(ca + ".crt"),
        CertFile = client is null ? null : _certs.P(client + ".crt"),
        KeyFile = client is null ? null : _certs.P(client + ".key"),
        Insecure = insecure,
        Authentication = new Credentials("admin", "tls-rest-pw"),
    };

    private static HttpClient Client(CtlConfig ctl, bool daemon) =>
        new(RestClientSettings.Handler(ctl, null, daemon, insecure: false, TimeSpan.FromSeconds(3))) { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<(int Code, string Body)> Send(HttpClient http, HttpMethod method, string url, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Get ? null : new StringContent("", Encoding.UTF8) };
        request.Headers.Authorization = auth;
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Verify_client_optional_serves_reads_without_a_certificate_but_writes_need_one()
    {
        var url = await StartAsync(Rest(91, "optional"));
        var auth = RestClientSettings.BasicAuth(Ctl(null), null);
        using var anonymous = Client(Ctl(null), daemon: false);
        Assert.Equal(200, (await Send(anonymous, HttpMethod.Get, url + "/patroni")).Code);
        Assert.Equal((403, "client certificate required"), await Send(anonymous, HttpMethod.Post, url + "/reload", auth));

        using var withCert = Client(Ctl("client"), daemon: false);
        Assert.Equal(401, (await Send(withCert, HttpMethod.Post, url + "/reload")).Code);
        Assert.Equal((202, "reload scheduled"), await Send(withCert, HttpMethod.Post, url + "/reload", auth));

        // A client certificate from a CA that restapi.cafile does not name fails the handshake.
        using var stranger = Client(Ctl("stranger"), daemon: false);
        await Assert.ThrowsAsync<HttpRequestException>(() => Send(stranger, HttpMethod.Get, url + "/patroni"));
    }

    [Fact]
    public async Task Verify_client_required_refuses_every_call_without_a_certificate()
    {
        var url = await StartAsync(Rest(92, "required"));
        using var anonymous = Client(Ctl(null), daemon: false);
        await Assert.ThrowsAsync<HttpRequestException>(() => Send(anonymous, HttpMethod.Get, url + "/patroni"));
        using var withCert = Client(Ctl("client"), daemon: false);
        Assert.Equal(200, (await Send(withCert, HttpMethod.Get, url + "/patroni")).Code);
    }

    [Fact]
    public async Task The_cli_verifies_the_server_unless_insecure_and_the_daemon_never_checks_host_names()
    {
        var url = await StartAsync(Rest(93, "none"));
        // The CLI with the right CA: verified.
        using (var cli = Client(Ctl(null), daemon: false)) Assert.Equal(200, (await Send(cli, HttpMethod.Get, url + "/patroni")).Code);
        // The CLI with a foreign CA: refused; with ctl.insecure: accepted.
        using (var cli = Client(Ctl(null, ca: "otherca"), daemon: false))
            await Assert.ThrowsAsync<HttpRequestException>(() => Send(cli, HttpMethod.Get, url + "/patroni"));
        using (var cli = Client(Ctl(null, insecure: true, ca: "otherca"), daemon: false))
            Assert.Equal(200, (await Send(cli, HttpMethod.Get, url + "/patroni")).Code);
        // The daemon without ctl.certfile does not verify at all (Patroni's insecure peer client).
        using (var daemon = Client(Ctl(null, ca: "otherca"), daemon: true))
            Assert.Equal(200, (await Send(daemon, HttpMethod.Get, url + "/patroni")).Code);
        // The daemon with ctl.certfile verifies the chain but not the host name.
        using (var daemon = Client(Ctl("client"), daemon: true))
            Assert.Equal(200, (await Send(daemon, HttpMethod.Get, url + "/patroni")).Code);
        using (var daemon = Client(Ctl("client", ca: "otherca"), daemon: true))
            await Assert.ThrowsAsync<HttpRequestException>(() => Send(daemon, HttpMethod.Get, url + "/patroni"));
        Assert.True(RestClientSettings.Verified(null, null, System.Net.Security.SslPolicyErrors.None, true) is false);
    }
}
