using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PgWarden.Api;

/// <summary>
/// Patroni's check_access for the "unsafe" endpoints (compat §2.12), in its order: (1) restapi.allowlist /
/// allowlist_include_members miss: 403 "Access is denied"; (2) HTTPS with verify_client optional/required and no
/// client certificate: 403 "client certificate required"; (3) restapi.authentication: a missing Authorization
/// header is 401 "no auth header received", wrong credentials 401 "not authenticated", both with
/// WWW-Authenticate: Basic realm="Patroni". Credentials are compared in constant time. The dispatcher runs the
/// check for every route claimed by a method other than GET/HEAD/OPTIONS, so a write endpoint cannot forget it;
/// the result is remembered per request so handlers that also call it do not check twice.
/// </summary>
public static class WriteAccess
{
    public const string Realm = "Basic realm=\"Patroni\"";
    private const string CheckedKey = "pgwarden.write-access";

    /// <summary>Wraps a write handler so it runs only for an authenticated caller.</summary>
    public static RequestDelegate Require(RestApiContext api, RequestDelegate handler) => async ctx =>
    {
        if (await CheckAsync(ctx, api)) await handler(ctx);
    };

    /// <summary>True when the request may proceed; otherwise the 403/401 has been written.</summary>
    public static async Task<bool> CheckAsync(HttpContext ctx, RestApiContext api)
    {
        if (ctx.Items.TryGetValue(CheckedKey, out var done) && done is true) return true;
        var rest = api.Config.RestApi;
        if (!api.Allowlist.Allows(ctx.Connection.RemoteIpAddress, api.Board.Current.View))
        {
            await Refuse(ctx, api, 403, "Access is denied");
            return false;
        }
        if (ctx.Request.IsHttps && rest.VerifyClient is "optional" or "required" && ctx.Connection.ClientCertificate is null)
        {
            await Refuse(ctx, api, 403, "client certificate required");
            return false;
        }
        if (rest.Authentication is { } auth)
        {
            var header = ctx.Request.Headers.Authorization.ToString();
            if (string.IsNullOrEmpty(header))
            {
                ctx.Response.Headers.WWWAuthenticate = Realm;
                await Refuse(ctx, api, 401, "no auth header received");
                return false;
            }
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}"));
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header.Trim()), Encoding.UTF8.GetBytes(expected)))
            {
                ctx.Response.Headers.WWWAuthenticate = Realm;
                await Refuse(ctx, api, 401, "not authenticated");
                return false;
            }
        }
        ctx.Items[CheckedKey] = true;
        return true;
    }

    private static Task Refuse(HttpContext ctx, RestApiContext api, int code, string message)
    {
        SecurityLog.AccessRefused(api.Logger, ctx.Request.Method, ctx.Request.Path.Value ?? "/",
            ctx.Connection.RemoteIpAddress?.ToString() ?? "?", message);
        return PlainText.WriteAsync(ctx, api, code, message);
    }
}

/// <summary>Patroni's _write_response: a plain message with Content-Type text/html.</summary>
public static class PlainText
{
    public static Task WriteAsync(HttpContext ctx, RestApiContext api, int code, string message) =>
        api.WriteAsync(ctx, code, Encoding.UTF8.GetBytes(message), "text/html");

    /// <summary>Python's BaseHTTPRequestHandler.send_error page (what Patroni answers for unreadable bodies).</summary>
    public static Task SendErrorAsync(HttpContext ctx, RestApiContext api, int code)
    {
        var (phrase, explanation) = code switch
        {
            400 => ("Bad Request", "Bad request syntax or unsupported method."),
            409 => ("Conflict", "Request conflict."),
            502 => ("Bad Gateway", "Invalid responses from another server/proxy."),
            503 => ("Service Unavailable", "The server cannot process the request due to a high load"),
            _ => ("Error", "Error."),
        };
        var html = $"""
            <!DOCTYPE HTML>
            <html lang="en">
                <head>
                    <meta charset="utf-8">
                    <title>Error response</title>
                </head>
                <body>
                    <h1>Error response</h1>
                    <p>Error code: {code}</p>
                    <p>Message: {phrase}.</p>
                    <p>Error code explanation: {code} - {explanation}</p>
                </body>
            </html>

            """;
        ctx.Response.Headers.Connection = "close";
        return api.WriteAsync(ctx, code, Encoding.UTF8.GetBytes(html), "text/html;charset=utf-8");
    }

    /// <summary>The request body as a JSON object; null (after a 400 page) when it is empty, not JSON or not an object.</summary>
    public static async Task<System.Text.Json.Nodes.JsonObject?> ReadJsonObjectAsync(HttpContext ctx, RestApiContext api, bool allowEmpty = false)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ctx.RequestAborted);
        System.Text.Json.Nodes.JsonObject? body = null;
        try
        {
            body = string.IsNullOrWhiteSpace(text) ? null : System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        if (body is null || (body.Count == 0 && !allowEmpty))
        {
            await SendErrorAsync(ctx, api, 400);
            return null;
        }
        return body;
    }
}
