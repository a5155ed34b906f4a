using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PgWarden.Api;

/// <summary>
/// Patroni's check_access for the "unsafe" endpoints (compat §2.12): when restapi.authentication is set, a
/// missing Authorization header is 401 "no auth header received", wrong credentials 401 "not authenticated",
/// both with WWW-Authenticate: Basic realm="Patroni". Credentials are compared in constant time.
/// </summary>
public static class WriteAccess
{
    public const string Realm = "Basic realm=\"Patroni\"";

    /// <summary>Wraps a write handler so it runs only for an authenticated caller.</summary>
    public static RequestDelegate Require(RestApiContext api, RequestDelegate handler) => async ctx =>
    {
        if (await CheckAsync(ctx, api)) await handler(ctx);
    };

    /// <summary>True when the request may proceed; otherwise the 401 has been written.</summary>
    public static async Task<bool> CheckAsync(HttpContext ctx, RestApiContext api)
    {
        var auth = api.Config.RestApi.Authentication;
        if (auth is null) return true;
        var header = ctx.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            await Reject(ctx, api, "no auth header received");
            return false;
        }
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}"));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header.Trim()), Encoding.UTF8.GetBytes(expected)))
        {
            await Reject(ctx, api, "not authenticated");
            return false;
        }
        return true;
    }

    private static Task Reject(HttpContext ctx, RestApiContext api, string message)
    {
        ctx.Response.Headers.WWWAuthenticate = Realm;
        return PlainText.WriteAsync(ctx, api, 401, message);
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
