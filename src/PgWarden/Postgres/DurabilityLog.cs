using Microsoft.Extensions.Logging;

namespace PgWarden.Postgres;

/// <summary>
/// Log lines of the speed work on PostgreSQL tools: the data-directory sync that replaces initdb's and
/// pg_basebackup's per-file fsync, and promotion over SQL.
/// </summary>
internal static partial class DurabilityLog
{
    [LoggerMessage(EventId = 2700, Level = LogLevel.Information, Message = "synced {DataDir} to disk ({Method}, {Milliseconds:F0} ms)")]
    public static partial void Synced(ILogger logger, string dataDir, string method, double milliseconds);

    [LoggerMessage(EventId = 2701, Level = LogLevel.Warning, Message = "syncfs of {DataDir} failed ({Error}); syncing file by file with initdb --sync-only")]
    public static partial void SyncfsFailed(ILogger logger, string dataDir, string error);

    [LoggerMessage(EventId = 2702, Level = LogLevel.Warning, Message = "pg_promote() over SQL failed ({Error}); promoting with pg_ctl")]
    public static partial void PromoteOverSqlFailed(ILogger logger, string error);
}
