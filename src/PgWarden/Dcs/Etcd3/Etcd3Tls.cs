using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PgWarden.Config;

namespace PgWarden.Dcs.Etcd3;

/// <summary>
/// TLS towards etcd: the servers are verified against etcd3.cacert (chain and host name, as Patroni's client does),
/// and etcd3.cert/key are presented when etcd runs with --client-cert-auth.
/// </summary>
public static class Etcd3Tls
{
    public static SslClientAuthenticationOptions ClientOptions(Etcd3ClientOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.CertFile is not null)
        {
            if (options.KeyFile is null && !File.ReadAllText(options.CertFile).Contains("PRIVATE KEY", StringComparison.Ordinal))
                throw new ConfigException("etcd3.key", $"etcd3.cert {options.CertFile} holds no private key and etcd3.key is not set");
            var certificate = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
            // An ephemeral PEM key cannot be used by the TLS stack on every platform; a PKCS#12 round trip makes it usable.
            ssl.ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)];
        }
        if (options.CaCertFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(options.CaCertFile);
            if (roots.Count == 0) throw new ConfigException("etcd3.cacert", $"etcd3.cacert {options.CaCertFile} holds no PEM certificate");
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => VerifiedBy(roots, certificate, errors);
        }
        return ssl;
    }

    private static bool VerifiedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
