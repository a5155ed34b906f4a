using Microsoft.Extensions.Logging;

namespace PgWarden.Ha;

/// <summary>Log lines of the safety rules the fault-injection suite led to (EventIds 1800-1899).</summary>
internal static partial class FaultSafetyLog
{
    [LoggerMessage(EventId = 1800, Level = LogLevel.Warning,
        Message = "the former leader {Name} at {Host}:{Port} has no lock but its PostgreSQL still runs as a primary")]
    public static partial void FormerLeaderStillPrimary(ILogger logger, string name, string host, int port);
}
