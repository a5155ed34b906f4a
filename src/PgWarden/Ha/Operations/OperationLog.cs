using Microsoft.Extensions.Logging;

namespace PgWarden.Ha.Operations;

/// <summary>Log lines of node operations, dynamic configuration and callbacks (event ids 1200-1299).</summary>
internal static partial class OperationLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Error, Message = "The DCS config key (revision {Revision}) is not usable and is ignored; keeping the last good configuration: {Error}")]
    public static partial void InvalidConfigIgnored(ILogger logger, long revision, string error);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Dynamic configuration changed (revision {Revision}); applying it")]
    public static partial void DynamicConfigChanged(ILogger logger, long revision);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "PostgreSQL configuration changed; reloaded")]
    public static partial void Reloaded(ILogger logger);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Pending restart: {Reasons}")]
    public static partial void PendingRestart(ILogger logger, string reasons);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Restarting PostgreSQL ({Why})")]
    public static partial void Restarting(ILogger logger, string why);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "PostgreSQL restarted in {Seconds:F1} s")]
    public static partial void Restarted(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Error, Message = "Restart failed: {Message}")]
    public static partial void RestartFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Reinitializing: stopping PostgreSQL and removing {DataDir}; the replica is cloned again from the leader")]
    public static partial void Reinitializing(ILogger logger, string dataDir);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Error, Message = "Reinitialize failed: {Message}")]
    public static partial void ReinitializeFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Information, Message = "Scheduled restart at {Schedule} stored")]
    public static partial void RestartScheduled(ILogger logger, string schedule);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "Scheduled restart cancelled: {Why}")]
    public static partial void ScheduledRestartCancelled(ILogger logger, string why);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "Calling callback: {Command}")]
    public static partial void CallbackStarted(ILogger logger, string command);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning, Message = "Callback {Command} exited with code {Code}")]
    public static partial void CallbackFailed(ILogger logger, string command, int code);

    [LoggerMessage(EventId = 1213, Level = LogLevel.Warning, Message = "Callback {Command} killed: {Why}")]
    public static partial void CallbackKilled(ILogger logger, string command, string why);

    [LoggerMessage(EventId = 1214, Level = LogLevel.Warning, Message = "Callback {Command} could not be started: {Message}")]
    public static partial void CallbackNotStarted(ILogger logger, string command, string message);

    [LoggerMessage(EventId = 1215, Level = LogLevel.Warning, Message = "Pending-restart check failed: {Message}")]
    public static partial void PendingCheckFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1216, Level = LogLevel.Warning, Message = "Lock renewal during restart failed: {Message}")]
    public static partial void RenewDuringRestartFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1217, Level = LogLevel.Information, Message = "Reload requested")]
    public static partial void ReloadRequested(ILogger logger);
}
