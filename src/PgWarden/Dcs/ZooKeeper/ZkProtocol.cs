namespace PgWarden.Dcs.ZooKeeper;

/// <summary>Op codes of the ZooKeeper client protocol (org.apache.zookeeper.ZooDefs.OpCode).</summary>
public static class ZkOp
{
    public const int Notification = 0;
    public const int Create = 1;
    public const int Delete = 2;
    public const int Exists = 3;
    public const int GetData = 4;
    public const int SetData = 5;
    public const int GetChildren = 8;
    public const int Ping = 11;
    public const int Check = 13;
    public const int Multi = 14;
    public const int CloseSession = -11;
    public const int Error = -1;
}

/// <summary>Reserved xids: replies with these are not answers to numbered requests.</summary>
public static class ZkXid
{
    public const int Notification = -1;
    public const int Ping = -2;
}

/// <summary>Error codes of a reply header (KeeperException.Code).</summary>
public enum ZkError
{
    Ok = 0,
    SystemError = -1,
    RuntimeInconsistency = -2,
    DataInconsistency = -3,
    ConnectionLoss = -4,
    MarshallingError = -5,
    Unimplemented = -6,
    OperationTimeout = -7,
    BadArguments = -8,
    ApiError = -100,
    NoNode = -101,
    NoAuth = -102,
    BadVersion = -103,
    NoChildrenForEphemerals = -108,
    NodeExists = -110,
    NotEmpty = -111,
    SessionExpired = -112,
    InvalidCallback = -113,
    InvalidAcl = -114,
    AuthFailed = -115,
    SessionMoved = -118,
    NotReadOnly = -119,
}

/// <summary>How a znode is created (CreateMode flags).</summary>
public enum ZkCreateMode
{
    Persistent = 0,
    Ephemeral = 1,
}

/// <summary>Watch event types (Watcher.Event.EventType).</summary>
public enum ZkEventType
{
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
}

/// <summary>A watch that fired: what happened to which path.</summary>
public sealed record ZkWatchEvent(ZkEventType Type, int State, string Path);

/// <summary>A reply whose header carried an error code.</summary>
public sealed class ZooKeeperException(ZkError code, string path)
    : Exception($"zookeeper: {code} ({(int)code}) on {path}")
{
    public ZkError Code { get; } = code;
    public string Path { get; } = path;
}
