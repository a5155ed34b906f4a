using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PgWarden.Api;

/// <summary>
/// restapi.authentication for the unsafe endpoints (compat §2.12): a missing header answers 401
/// "no auth header received", wrong credentials 401 "not authenticated", both with Patroni's realm.
/// A minimal check for the operation endpoints; the allowlist and client certificates are not handled here.
/// </summary>
public static class WriteAccess
{
    /// <summary>True when the request may proceed; otherwise the 401 has been written.</summary>
    public static async Task<bool> CheckAsync(HttpContext ctx, RestApiContext api)
    {
        if (api.Config.RestApi.Authentication is not { } auth) return true;
        var header = ctx.Request.Headers.Authorization.ToString();
        string? message = null;
        if (string.IsNullOrEmpty(header)) message = "no auth header received";
        else
        {
            var expected = Encoding.UTF8.GetBytes("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}")));
            if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(header))) message = "not authenticated";
        }
        if (message is null) return true;
        ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"Patroni\"";
        await OperationEndpoints.WriteTextAsync(ctx, api, 401, message);
        return false;
    }
}
