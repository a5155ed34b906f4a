using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using PgWarden.Config;

namespace PgWarden.Api;

/// <summary>
/// HTTPS for the REST API from Patroni's PEM files (compat §2.12): restapi.certfile (which may also hold the key),
/// keyfile, keyfile_password, cafile (the CA client certificates must chain to) and verify_client:
/// none = no client certificate asked for; optional = asked for, and checked against cafile when given, but only the
/// unsafe endpoints insist on one (403 "client certificate required"); required = the handshake fails without one.
/// </summary>
public static class RestApiTls
{
    public static bool Enabled(RestApiConfig rest) => !string.IsNullOrEmpty(rest?.CertFile);

    public static HttpsConnectionAdapterOptions ServerOptions(RestApiConfig rest)
    {
        ArgumentNullException.ThrowIfNull(rest);
        var options = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = LoadCertificate(rest.CertFile!, rest.KeyFile, rest.KeyFilePassword, "restapi"),
            ClientCertificateMode = rest.VerifyClient switch
            {
                "required" => ClientCertificateMode.RequireCertificate,
                "optional" => ClientCertificateMode.AllowCertificate,
                _ => ClientCertificateMode.NoCertificate,
            },
        };
        if (rest.VerifyClient is "optional" or "required")
        {
            var roots = rest.CaFile is { Length: > 0 } ca ? LoadRoots(ca, "restapi.cafile") : null;
            // Without cafile the system store decides, as Python's ssl does with load_default_certs.
            options.ClientCertificateValidation = (certificate, _, errors) =>
                roots is null ? errors == SslPolicyErrors.None : ChainsTo(roots, certificate);
        }
        return options;
    }

    /// <summary>A certificate with its private key from PEM files; keyFile null means the key is in certFile.</summary>
    public static X509Certificate2 LoadCertificate(string certFile, string? keyFile, string? keyPassword, string section)
    {
        var keyPath = string.IsNullOrEmpty(keyFile) ? certFile : keyFile;
        try
        {
            using var pem = string.IsNullOrEmpty(keyPassword)
                ? X509Certificate2.CreateFromPemFile(certFile, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(certFile, keyPassword, keyPath);
            // An ephemeral PEM key cannot be used by the TLS stack on every platform; a PKCS#12 round trip makes it usable.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new ConfigException($"{section}.certfile",
                $"{section}.certfile {certFile} / keyfile {keyPath}: cannot load a PEM certificate with its private key ({e.Message})");
        }
    }

    public static X509Certificate2Collection LoadRoots(string path, string key)
    {
        var roots = new X509Certificate2Collection();
        try { roots.ImportFromPemFile(path); }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new ConfigException(key, $"{key} {path}: cannot read PEM certificates ({e.Message})");
        }
        if (roots.Count == 0) throw new ConfigException(key, $"{key} {path} holds no PEM certificate");
        return roots;
    }

    public static bool ChainsTo(X509Certificate2Collection roots, X509Certificate2? certificate)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
