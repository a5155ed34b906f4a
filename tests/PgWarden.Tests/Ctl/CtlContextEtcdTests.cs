using PgWarden.Ctl;

namespace PgWarden.Tests.Ctl;

public sealed class CtlContextEtcdTests
{
    [Fact]
    public void A_patronictl_style_file_keeps_the_etcd3_credentials_and_tls_files()
    {
        var path = Path.Combine(Path.GetTempPath(), "pgwarden-ctl-" + Guid.NewGuid().ToString("N") + ".yml");
        File.WriteAllText(path, """
            scope: batman
            etcd3:
              hosts: 10.0.0.1:2379
              protocol: https
              cacert: /etc/etcd/ca.crt
              cert: /etc/etcd/client.crt
              key: /etc/etcd/client.key
              username: pgwarden
              password: s3cret
            """);
        try
        {
            var ctx = CtlContext.Load(path, null);
            var etcd = Assert.IsType<PgWarden.Config.EtcdConfig>(ctx.Etcd);
            Assert.Equal(("https", "pgwarden", "s3cret"), (etcd.Protocol, etcd.Username, etcd.Password));
            Assert.Equal(("/etc/etcd/ca.crt", "/etc/etcd/client.crt", "/etc/etcd/client.key"), (etcd.CaCert, etcd.Cert, etcd.Key));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
