namespace PgWarden.Dcs;

/// <summary>The stores PgWarden speaks, named as their configuration sections are.</summary>
public enum DcsKind
{
    /// <summary>etcd's v2 keys API (the etcd: section).</summary>
    Etcd,
    /// <summary>etcd's v3 API through its JSON gateway (the etcd3: section).</summary>
    Etcd3,
    ZooKeeper,
}

public static class DcsKinds
{
    /// <summary>The section name (etcd, etcd3, zookeeper), also the --dcs value of the lab.</summary>
    public static string SectionName(this DcsKind kind) => kind switch
    {
        DcsKind.Etcd => "etcd",
        DcsKind.Etcd3 => "etcd3",
        DcsKind.ZooKeeper => "zookeeper",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static DcsKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "etcd" or "etcd2" => DcsKind.Etcd,
        "etcd3" => DcsKind.Etcd3,
        "zookeeper" or "zk" => DcsKind.ZooKeeper,
        _ => throw new ArgumentException($"unknown DCS '{name}': expected etcd, etcd3 or zookeeper"),
    };
}
