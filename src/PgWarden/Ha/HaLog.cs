using Microsoft.Extensions.Logging;

namespace PgWarden.Ha;

/// <summary>The HA loop's log lines, with stable event ids (1000-1099).</summary>
internal static partial class HaLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "{Reason}")]
    public static partial void CycleResult(ILogger logger, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "DCS is not accessible ({Kind}): {Message}")]
    public static partial void DcsUnreachable(ILogger logger, string kind, string message);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "failed to acquire initialize lock; waiting for the leader to bootstrap")]
    public static partial void LostBootstrapRace(ILogger logger);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "bootstrapped a new cluster {Sysid} in {Seconds:F1} s")]
    public static partial void Bootstrapped(ILogger logger, string sysid, double seconds);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "failed to bootstrap the cluster: {Message}")]
    public static partial void BootstrapFailed(ILogger logger, string message, Exception exception);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "replica cloned from {Source} in {Seconds:F1} s")]
    public static partial void Cloned(ILogger logger, string source, double seconds);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "failed to clone from {Source}: {Message}")]
    public static partial void CloneFailed(ILogger logger, string source, string message);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "lost the leader lock while renewing it; demoting")]
    public static partial void LostLock(ILogger logger);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "failed to acquire the leader lock: {Holder} was faster")]
    public static partial void LostLeaderRace(ILogger logger, string holder);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Critical, Message = "{Reason}")]
    public static partial void Fatal(ILogger logger, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "HA cycle failed: {Message}")]
    public static partial void CycleFailed(ILogger logger, string message, Exception exception);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "postgres did not start within {Seconds} s")]
    public static partial void StartTimedOut(ILogger logger, int seconds);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "shutting down: stopping postgres{Leader}")]
    public static partial void ShuttingDown(ILogger logger, string leader);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "leader key released")]
    public static partial void LeaderReleased(ILogger logger);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "could not release the leader key on shutdown: {Message}")]
    public static partial void LeaderReleaseFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Information, Message = "re-pointed replication to {Upstream}")]
    public static partial void Repointed(ILogger logger, string upstream);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Warning, Message = "promotion did not complete: {Message}")]
    public static partial void PromoteFailed(ILogger logger, string message);
}
