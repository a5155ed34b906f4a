using Microsoft.Extensions.Logging;

namespace PgWarden.Ha.Safety;

/// <summary>Log lines of synchronous replication, failsafe mode and the watchdog, with stable event ids (1500-1599).</summary>
internal static partial class SafetyLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Assigning synchronous standby status to [{Names}] (synchronous_standby_names = '{Value}')")]
    public static partial void AssigningSync(ILogger logger, string names, string value);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Updating synchronous privilege temporarily from [{From}] to [{To}]")]
    public static partial void ShrinkingSync(ILogger logger, string from, string to);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Synchronous standby status assigned to [{Names}]")]
    public static partial void SyncAssigned(ILogger logger, string names);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Synchronous replication key updated by someone else")]
    public static partial void SyncKeyRaced(ILogger logger);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "No standbys available! synchronous_mode_strict keeps synchronous_standby_names = '*': commits wait until a standby becomes synchronous")]
    public static partial void NoStandbysStrict(ILogger logger);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Disabled synchronous replication")]
    public static partial void SyncDisabled(ILogger logger);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Warning, Message = "Postponing promotion because the /sync key was updated by somebody else")]
    public static partial void PromotionPostponed(ILogger logger);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Warning, Message = "synchronous replication step failed: {Message}")]
    public static partial void SyncStepFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Warning, Message = "failsafe: DCS unreachable ({Kind}); all {Count} member(s) accepted POST /failsafe in {Milliseconds:0} ms: continuing to run as the leader")]
    public static partial void FailsafeHeld(ILogger logger, string kind, int count, double milliseconds);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "failsafe: DCS unreachable ({Kind}) and not every member confirmed us: {Detail}")]
    public static partial void FailsafeRefused(ILogger logger, string kind, string detail);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Information, Message = "failsafe: accepted {Leader} as the leader for {Ttl} s")]
    public static partial void FailsafeAccepted(ILogger logger, string leader, int ttl);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Warning, Message = "failsafe key write failed: {Message}")]
    public static partial void FailsafeWriteFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Information, Message = "watchdog {Device} activated with a {Timeout} s timeout")]
    public static partial void WatchdogActivated(ILogger logger, string device, int timeout);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Error, Message = "watchdog {Device} could not be activated: {Reason}")]
    public static partial void WatchdogFailed(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = 1522, Level = LogLevel.Information, Message = "watchdog {Device} disarmed with the magic close ({Why})")]
    public static partial void WatchdogDisarmed(ILogger logger, string device, string why);

    [LoggerMessage(EventId = 1523, Level = LogLevel.Debug, Message = "watchdog {Device}: setting the timeout by ioctl failed ({Reason}); keeping the device's own timeout")]
    public static partial void WatchdogTimeoutNotSet(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = 1524, Level = LogLevel.Error, Message = "not taking the leader lock / not promoting: {Reason}")]
    public static partial void WatchdogRefusesLeadership(ILogger logger, string reason);
}
