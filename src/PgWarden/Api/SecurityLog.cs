using Microsoft.Extensions.Logging;

namespace PgWarden.Api;

/// <summary>Log records of the REST API's access checks and input limits (EventIds 1600-1619).</summary>
public static partial class SecurityLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "{Method} {Path} from {Remote} refused: {Reason}")]
    public static partial void AccessRefused(ILogger logger, string method, string path, string remote, string reason);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "{Method} {Path} from {Remote} refused: the body is larger than {Limit} bytes")]
    public static partial void BodyTooLarge(ILogger logger, string method, string path, string remote, long limit);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "{Method} {Path} from {Remote}: bad request: {Message}")]
    public static partial void BadRequest(ILogger logger, string method, string path, string remote, string message);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Information, Message = "REST API serves HTTPS with certificate {Subject} (serial {Serial}); verify_client {VerifyClient}")]
    public static partial void Https(ILogger logger, string subject, string serial, string verifyClient);
}
