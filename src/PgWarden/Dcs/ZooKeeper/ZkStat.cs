namespace PgWarden.Dcs.ZooKeeper;

/// <summary>A znode's Stat record. EphemeralOwner is the owning session id (0 for a persistent znode).</summary>
public sealed record ZkStat(
    long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion, long EphemeralOwner,
    int DataLength, int NumChildren, long Pzxid);
