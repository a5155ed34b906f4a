using Microsoft.Extensions.Logging;

namespace PgWarden.Ha;

/// <summary>Log lines of the local configuration re-read and of lock-loss fencing (event ids 1700-1799).</summary>
internal static partial class ReloadLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Information, Message = "re-read the local configuration {Path}: changed {Changed}")]
    public static partial void LocalConfigReread(ILogger logger, string path, string changed);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "the local configuration {Path} changes {Settings}: these keep their running values until the agent is restarted")]
    public static partial void NeedsAgentRestart(ILogger logger, string path, string settings);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Error, Message = "cannot re-read the local configuration {Path}: {Message}; keeping the running configuration")]
    public static partial void LocalConfigRereadFailed(ILogger logger, string path, string message);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Critical, Message = "self-fencing: the DCS says our leader lock is gone ({Reason}); stopping PostgreSQL now, before a replica can be promoted")]
    public static partial void FencingLockLost(ILogger logger, string reason);
}
