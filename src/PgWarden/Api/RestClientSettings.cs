using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using PgWarden.Config;

namespace PgWarden.Api;

/// <summary>
/// How PgWarden calls a member's REST API, for the agent's own peer calls and for the CLI alike (Patroni's
/// patroni/request.py, compat §2.12): basic auth from ctl.authentication, else restapi.authentication; a client
/// certificate from ctl.certfile/keyfile/keyfile_password; the CA from ctl.cacert, else restapi.cafile. The daemon
/// never checks host names (peers are addressed by whatever api_url says) and, without ctl.certfile, does not verify
/// peers at all, as Patroni's daemon; the CLI verifies chain and host name unless ctl.insecure (or -k).
/// </summary>
public static class RestClientSettings
{
    public static AuthenticationHeaderValue? BasicAuth(CtlConfig? ctl, RestApiConfig? rest)
    {
        var credentials = ctl?.Authentication ?? rest?.Authentication;
        return credentials is null ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));
    }

    /// <summary>The handler for REST calls; daemon picks the agent's verification rules, otherwise the CLI's.</summary>
    public static SocketsHttpHandler Handler(CtlConfig? ctl, RestApiConfig? rest, bool daemon, bool insecure, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, ConnectTimeout = connectTimeout };
        var ssl = new SslClientAuthenticationOptions();
        if (ctl?.CertFile is { Length: > 0 } certFile)
            ssl.ClientCertificates = [RestApiTls.LoadCertificate(certFile, ctl.KeyFile, ctl.KeyFilePassword, "ctl")];
        var caFile = ctl?.CaCert is { Length: > 0 } c ? c : rest?.CaFile is { Length: > 0 } r ? r : null;
        var roots = caFile is null ? null : RestApiTls.LoadRoots(caFile, ctl?.CaCert is { Length: > 0 } ? "ctl.cacert" : "restapi.cafile");
        var verify = daemon ? ctl?.CertFile is { Length: > 0 } : !(insecure || ctl?.Insecure == true);
        var checkHostName = !daemon;
        ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            !verify || Verified(roots, certificate, errors, checkHostName);
        // The callback owns the whole decision; without it .NET would also insist on the system store.
        handler.SslOptions = ssl;
        return handler;
    }

    internal static bool Verified(X509Certificate2Collection? roots, X509Certificate? certificate, SslPolicyErrors errors, bool checkHostName)
    {
        if (certificate is null) return false;
        if (checkHostName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        if (roots is null) return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        using var cert = new X509Certificate2(certificate);
        return RestApiTls.ChainsTo(roots, cert);
    }
}
