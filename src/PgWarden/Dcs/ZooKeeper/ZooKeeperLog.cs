using Microsoft.Extensions.Logging;

namespace PgWarden.Dcs.ZooKeeper;

/// <summary>Log events of the ZooKeeper client and DCS, and of the etcd v2 DCS (EventIds 2400-2499).</summary>
internal static partial class ZooKeeperLog
{
    [LoggerMessage(EventId = 2400, Level = LogLevel.Information, Message = "ZooKeeper session 0x{SessionId:x} on {Host} (timeout {TimeoutMs} ms, {Kind})")]
    public static partial void Connected(ILogger logger, long sessionId, string host, int timeoutMs, string kind);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning, Message = "ZooKeeper connection to {Host} failed: {Message}")]
    public static partial void ConnectionFailed(ILogger logger, string host, string message);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Warning, Message = "ZooKeeper session 0x{SessionId:x} has expired ({Why})")]
    public static partial void SessionExpired(ILogger logger, long sessionId, string why);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Warning, Message = "ZooKeeper connection to {Host} lost: {Message}")]
    public static partial void ConnectionLost(ILogger logger, string host, string message);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Debug, Message = "ZooKeeper watch fired: {Type} on {Path}")]
    public static partial void WatchFired(ILogger logger, ZkEventType type, string path);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Information, Message = "ZooKeeper session 0x{SessionId:x} closed")]
    public static partial void SessionClosed(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 2420, Level = LogLevel.Information, Message = "acquired the leader znode {Path} with session 0x{SessionId:x}")]
    public static partial void LeaderAcquired(ILogger logger, string path, long sessionId);

    [LoggerMessage(EventId = 2421, Level = LogLevel.Warning, Message = "the ZooKeeper session that held the leader lock expired: the lock is lost")]
    public static partial void LeaderLostToExpiry(ILogger logger);

    [LoggerMessage(EventId = 2422, Level = LogLevel.Warning, Message = "recreating the leader znode: it belongs to session 0x{Owner:x}, ours is 0x{SessionId:x}")]
    public static partial void LeaderRecreated(ILogger logger, long owner, long sessionId);

    [LoggerMessage(EventId = 2423, Level = LogLevel.Information, Message = "deleted the leader key {Path}")]
    public static partial void LeaderDeleted(ILogger logger, string path);

    [LoggerMessage(EventId = 2424, Level = LogLevel.Information, Message = "ttl changed from {Old} to {New}: the ZooKeeper session will be restarted")]
    public static partial void TtlChanged(ILogger logger, int old, int @new);

    [LoggerMessage(EventId = 2440, Level = LogLevel.Information, Message = "acquired the etcd v2 leader key {Key}")]
    public static partial void EtcdV2LeaderAcquired(ILogger logger, string key);

    [LoggerMessage(EventId = 2441, Level = LogLevel.Information, Message = "deleted the etcd v2 leader key {Key}")]
    public static partial void EtcdV2LeaderDeleted(ILogger logger, string key);

    [LoggerMessage(EventId = 2442, Level = LogLevel.Warning, Message = "etcd v2 endpoint {Endpoint} failed: {Message}")]
    public static partial void EtcdV2EndpointFailed(ILogger logger, string endpoint, string message);

    [LoggerMessage(EventId = 2443, Level = LogLevel.Debug, Message = "etcd v2 watch: {Message}")]
    public static partial void EtcdV2Watch(ILogger logger, string message);
}
