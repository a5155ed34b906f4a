using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>
/// etcd over TLS with client-certificate authentication, against a real etcd started with certificates that
/// openssl makes for the test: the right CA and client certificate work; a missing client certificate or a
/// foreign CA is refused.
/// </summary>
public sealed class Etcd3TlsTests : IAsyncLifetime
{
    private static readonly string Address = AgentCluster.Net + ".24";
    private readonly string _dir = Path.Combine("/var/tmp/pgwarden-it", "etcdtls-" + Guid.NewGuid().ToString("N")[..8]);
    private Process? _etcd;

    private string P(string name) => Path.Combine(_dir, name);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        MakeCa("ca");
        MakeCa("otherca");
        MakeSigned("server", "ca", $"subjectAltName=IP:{Address}");
        MakeSigned("client", "ca", "extendedKeyUsage=clientAuth");
        var psi = new ProcessStartInfo("etcd") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "--name", "tls", "--data-dir", P("data"),
                     "--listen-client-urls", $"https://{Address}:2379", "--advertise-client-urls", $"https://{Address}:2379",
                     "--listen-peer-urls", $"http://{Address}:2380", "--initial-advertise-peer-urls", $"http://{Address}:2380",
                     "--initial-cluster", $"tls=http://{Address}:2380",
                     "--cert-file", P("server.crt"), "--key-file", P("server.key"),
                     "--trusted-ca-file", P("ca.crt"), "--client-cert-auth",
                 })
            psi.ArgumentList.Add(a);
        _etcd = Process.Start(psi)!;
        _etcd.OutputDataReceived += (_, _) => { };
        _etcd.ErrorDataReceived += (_, _) => { };
        _etcd.BeginOutputReadLine();
        _etcd.BeginErrorReadLine();
        using var client = Client(withClientCert: true, ca: "ca");
        await Wait.UntilAsync(async () => { await client.GetAsync("/probe", serializable: true, CancellationToken.None); return true; },
            TimeSpan.FromSeconds(20), "etcd to answer over TLS");
    }

    public Task DisposeAsync()
    {
        if (_etcd is { HasExited: false }) _etcd.Kill(entireProcessTree: true);
        _etcd?.WaitForExit(5000);
        _etcd?.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private Etcd3Client Client(bool withClientCert, string ca) => new(new Etcd3ClientOptions
    {
        Endpoints = [$"https://{Address}:2379"],
        RetryTimeout = TimeSpan.FromSeconds(3),
        DiscoverMembers = false,
        CaCertFile = P(ca + ".crt"),
        CertFile = withClientCert ? P("client.crt") : null,
        KeyFile = withClientCert ? P("client.key") : null,
    }, TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task The_trusted_ca_and_a_client_certificate_reach_etcd()
    {
        using var client = Client(withClientCert: true, ca: "ca");
        await client.PutAsync("/service/tls/config", "{\"ttl\":30}", 0, CancellationToken.None);
        var range = await client.GetAsync("/service/tls/config", serializable: false, CancellationToken.None);
        Assert.Equal("{\"ttl\":30}", Assert.Single(range.Kvs).Value);
    }

    [Fact]
    public async Task Without_a_client_certificate_etcd_refuses_the_connection()
    {
        using var client = Client(withClientCert: false, ca: "ca");
        await Assert.ThrowsAsync<DcsException>(() => client.GetAsync("/x", serializable: true, CancellationToken.None));
    }

    [Fact]
    public async Task A_server_certificate_from_another_ca_is_not_trusted()
    {
        using var client = Client(withClientCert: true, ca: "otherca");
        await Assert.ThrowsAsync<DcsException>(() => client.GetAsync("/x", serializable: true, CancellationToken.None));
    }

    private void MakeCa(string name) => EtcdTls.MakeCa(_dir, name);

    private void MakeSigned(string name, string ca, string extension) => EtcdTls.MakeSigned(_dir, name, ca, extension);
}
