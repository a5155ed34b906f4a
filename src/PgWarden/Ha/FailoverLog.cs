using Microsoft.Extensions.Logging;

namespace PgWarden.Ha;

/// <summary>Log lines of failover, switchover, self-fencing and rejoin, with stable event ids (1100-1199).</summary>
internal static partial class FailoverLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "demoting self because DCS is not accessible and I was a leader: {Message}")]
    public static partial void DemotingWithoutDcs(ILogger logger, string message);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Critical, Message = "self-fencing: the leader lock was last renewed {Seconds:0.0} s ago (deadline {Deadline:0.0} s = ttl - margin); stopping PostgreSQL now so it is read-only before the lock can expire")]
    public static partial void Fencing(ILogger logger, double seconds, double deadline);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "promoted to primary in {Milliseconds:0} ms")]
    public static partial void Promoted(ILogger logger, double milliseconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "CHECKPOINT failed: {Message}")]
    public static partial void CheckpointFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "switchover to {Candidate}: checkpoint, then a clean fast shutdown")]
    public static partial void SwitchoverStarting(ILogger logger, string candidate);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "{Candidate} received the shutdown checkpoint {Lsn} ({Milliseconds:0} ms after the stop)")]
    public static partial void CheckpointReceived(ILogger logger, string candidate, string lsn, double milliseconds);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "{Candidate} has not received the shutdown checkpoint {Lsn} (it is at {Received}); releasing the lock anyway")]
    public static partial void CheckpointNotReceived(ILogger logger, string candidate, string lsn, string received);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Information, Message = "handed the leader lock over to {Candidate} {Milliseconds:0} ms after the switchover started")]
    public static partial void SwitchoverHandedOver(ILogger logger, string candidate, double milliseconds);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Critical, Message = "the hung postmaster survived SIGKILL; keeping the lock so no second primary can appear")]
    public static partial void HungPrimaryNotKilled(ILogger logger);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Error, Message = "pg_rewind from {Leader} failed: {Message}")]
    public static partial void RewindFailed(ILogger logger, string leader, string message);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "pg_rewind from {Leader}: {Outcome} in {Seconds:0.0} s")]
    public static partial void Rewound(ILogger logger, string leader, string outcome, double seconds);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "removing the data directory and cloning again from {Leader}")]
    public static partial void Reinitializing(ILogger logger, string leader);

    [LoggerMessage(EventId = 2800, Level = LogLevel.Warning, Message = "dropping the failover/switchover request (clearing the failover key): {Reason}")]
    public static partial void RequestDropped(ILogger logger, string reason);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Information, Message = "{Request} request: {Outcome}")]
    public static partial void RestRequest(ILogger logger, string request, string outcome);
}
