using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>
/// etcd over TLS (server certificate only) with username/password authentication, against a real etcd 3.4 whose
/// certificates openssl makes for the test. etcd runs with --auth-token-ttl 2, so the simple tokens it hands out
/// expire within the test: the client must authenticate again on "invalid auth token" and keep its lease.
/// </summary>
public sealed class Etcd3TlsAuthTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string RootPassword = "root-pw-Zq81";
    private const string User = "pgwarden";
    private const string UserPassword = "pgw-pw-Xv52";
    private static readonly string Address = AgentCluster.Net + ".30";
    private readonly string _dir = Path.Combine("/var/tmp/pgwarden-it", "etcdtlsauth-" + Guid.NewGuid().ToString("N")[..8]);
    private Process? _etcd;

    private string P(string name) => Path.Combine(_dir, name);
    private string Url => $"https://{Address}:2379";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        EtcdTls.MakeCa(_dir, "ca");
        EtcdTls.MakeSigned(_dir, "server", "ca", $"subjectAltName=IP:{Address}");
        var psi = new ProcessStartInfo("etcd") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "--name", "tlsauth", "--data-dir", P("data"),
                     "--listen-client-urls", Url, "--advertise-client-urls", Url,
                     "--listen-peer-urls", $"http://{Address}:2380", "--initial-advertise-peer-urls", $"http://{Address}:2380",
                     "--initial-cluster", $"tlsauth=http://{Address}:2380",
                     "--cert-file", P("server.crt"), "--key-file", P("server.key"),
                     "--auth-token-ttl", "2",
                 })
            psi.ArgumentList.Add(a);
        _etcd = Process.Start(psi)!;
        _etcd.OutputDataReceived += (_, _) => { };
        _etcd.ErrorDataReceived += (_, _) => { };
        _etcd.BeginOutputReadLine();
        _etcd.BeginErrorReadLine();
        await Wait.UntilAsync(async () =>
        {
            try { await EtcdctlAsync(null, "endpoint", "health"); return true; }
            catch (InvalidOperationException) { return false; }
        }, TimeSpan.FromSeconds(20), "etcd to answer over TLS");
        await EtcdctlAsync(null, "user", "add", "root:" + RootPassword);
        await EtcdctlAsync(null, "role", "add", "pgwarden");
        await EtcdctlAsync(null, "role", "grant-permission", "pgwarden", "--prefix=true", "readwrite", "/service/");
        await EtcdctlAsync(null, "user", "add", $"{User}:{UserPassword}");
        await EtcdctlAsync(null, "user", "grant-role", User, "pgwarden");
        await EtcdctlAsync(null, "auth", "enable");
    }

    public Task DisposeAsync()
    {
        if (_etcd is { HasExited: false }) _etcd.Kill(entireProcessTree: true);
        _etcd?.WaitForExit(5000);
        _etcd?.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>etcdctl over TLS; user "root" when asRoot. Throws InvalidOperationException on a non-zero exit.</summary>
    private async Task<string> EtcdctlAsync(string? user, params string[] args)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--endpoints=" + Url);
        psi.ArgumentList.Add("--cacert=" + P("ca.crt"));
        psi.ArgumentList.Add("--dial-timeout=2s");
        if (user is not null) psi.ArgumentList.Add("--user=" + user);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ETCDCTL_API"] = "3";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"etcdctl {string.Join(' ', args)}: {stderr}");
        return await stdout;
    }

    private Task<string> AsRootAsync(params string[] args) => EtcdctlAsync("root:" + RootPassword, args);

    private Etcd3Client Client(string password) => new(new Etcd3ClientOptions
    {
        Endpoints = [Url],
        RetryTimeout = TimeSpan.FromSeconds(3),
        DiscoverMembers = false,
        CaCertFile = P("ca.crt"),
        Username = User,
        Password = password,
    }, TimeProvider.System, NullLogger.Instance);

    /// <summary>A raw gateway call over TLS, to watch what etcd itself answers to a given token.</summary>
    private async Task<(int Status, string Body)> RawAsync(string path, string json, string? token)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url + "/v3" + path) { Content = new StringContent(json, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", token);
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_user_with_a_password_over_tls_holds_the_lock_through_token_expiry()
    {
        // The token flow as etcd documents it: /v3/auth/authenticate, then the bare token in "Authorization".
        var (status, body) = await RawAsync("/auth/authenticate", $$"""{"name":"{{User}}","password":"{{UserPassword}}"}""", null);
        Assert.Equal(200, status);
        var token = JsonNode.Parse(body)!["token"]!.GetValue<string>();
        var rangeBody = """{"key":"L3NlcnZpY2Uv"}""";
        Assert.Equal(200, (await RawAsync("/kv/range", rangeBody, token)).Status);

        using var client = Client(UserPassword);
        var scope = EtcdTestSupport.NewScope();
        await using var node = EtcdTestSupport.NewDcs(client, scope, "n1", watch: true, ttl: 30, retryTimeout: 3);
        await using var other = EtcdTestSupport.NewDcs(Client(UserPassword), scope, "n2", watch: false, ttl: 30, retryTimeout: 3);
        Assert.True(await node.AttemptToAcquireLeaderAsync(default));
        var lease = node.LeaseId;
        await node.TouchMemberAsync(EtcdTestSupport.Member("n1"), default);
        var view = await node.GetClusterAsync(default);
        Assert.Equal("n1", view.Leader?.Name);

        // The raw token expires after --auth-token-ttl (2 s) without use (every use extends it): poll every 3 s and
        // record what etcd answers then.
        var sw = Stopwatch.StartNew();
        var expired = "";
        await Wait.UntilAsync(async () =>
        {
            var (s, b) = await RawAsync("/kv/range", rangeBody, token);
            expired = b;
            return s != 200;
        }, TimeSpan.FromSeconds(30), "etcd to expire the raw token", TimeSpan.FromSeconds(3));
        output.WriteLine($"raw token expired after {sw.Elapsed.TotalSeconds:0.0} s; etcd answered: {expired}");
        Assert.Contains("invalid auth token", expired, StringComparison.Ordinal);

        // The client's own token is as old: the next calls must authenticate again and keep the same lease.
        Assert.True(await node.UpdateLeaderAsync(view.Leader, default));
        Assert.Equal(lease, node.LeaseId);
        // A write from the other member reaches the first through the watch.
        await other.TouchMemberAsync(EtcdTestSupport.Member("n2"), default);
        await EtcdTestSupport.WaitUntilAsync(async () => (await node.GetClusterAsync(default)).FindMember("n2") is not null,
            TimeSpan.FromSeconds(10), "the watch (or a read) to show n2");
        view = await node.GetClusterAsync(default);
        Assert.Equal("n1", view.Leader?.Name);
        Assert.Equal(lease, view.Leader?.LeaseId);
        Assert.NotNull(view.FindMember("n1"));

        // The same through the YAML an operator writes (etcd3: protocol https, cacert, username, password): `pgwarden
        // list` reads the cluster with the config's credentials.
        var yaml = P("ctl.yml");
        await File.WriteAllTextAsync(yaml, $"scope: {scope}\nnamespace: /service/\nname: ctl\netcd3:\n  hosts: {Address}:2379\n" +
                                           $"  protocol: https\n  cacert: {P("ca.crt")}\n  username: {User}\n  password: {UserPassword}\n");
        var (code, listed) = Failover.Scenario.Pgwarden("list", "-c", yaml);
        output.WriteLine(listed);
        Assert.True(code == 0, listed);
        Assert.Contains("n1", listed, StringComparison.Ordinal);
        Assert.Contains("n2", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(UserPassword, listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_is_an_auth_error_naming_the_user_not_the_password()
    {
        using var client = Client("not-the-password-91");
        var e = await Assert.ThrowsAsync<DcsException>(() => client.GetAsync("/service/x", serializable: false, default));
        output.WriteLine(e.Message);
        Assert.Equal(DcsErrorKind.AuthFailed, e.Kind);
        Assert.Contains(User, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password-91", e.Message, StringComparison.Ordinal);
    }
}
