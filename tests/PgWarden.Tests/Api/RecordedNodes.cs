using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.Tests.Api;

/// <summary>Snapshots that reproduce the recorded 3-node Patroni 3.0.2 cluster (scope demo, node2 leader).</summary>
public static class RecordedNodes
{
    public static readonly DateTimeOffset Now = At(2026, 11, 22, 3, 44, 13, 0);

    public static DateTimeOffset At(int y, int mo, int d, int h, int mi, int s, long micros) =>
        new DateTimeOffset(y, mo, d, h, mi, s, TimeSpan.Zero).AddTicks(micros * 10);

    public static readonly DynamicConfig Dynamic = new() { Ttl = 10, LoopWait = 2, RetryTimeout = 3 };

    public static Member MemberOf(string name, string role, long xlog, int timeline = 1, bool pendingRestart = false) =>
        new(name, new MemberData
        {
            ConnUrl = $"postgres://127.0.0.1{name[^1]}:5432/postgres",
            ApiUrl = $"http://127.0.0.1{name[^1]}:8008/patroni",
            State = "running",
            Role = role,
            Version = "3.0.2",
            XlogLocation = xlog,
            Timeline = timeline,
            PendingRestart = pendingRestart,
        }, 1, 1);

    public static ClusterView View(string leader = "node2", long optime = 67301872) => new()
    {
        Initialize = "7710836552808695120",
        Config = new VersionedConfig(Dynamic, 12, "{}"),
        Leader = new LeaderKey(leader, 20, 7),
        Members =
        [
            MemberOf("node1", leader == "node1" ? "master" : "replica", optime),
            MemberOf("node2", leader == "node2" ? "master" : "replica", optime),
            MemberOf("node3", leader == "node3" ? "master" : "replica", optime),
        ],
        Status = new ClusterStatus(optime, new Dictionary<string, long>()),
        History = [],
    };

    public static NodeStatus Leader(long xlog = 67301872, long dcsLastSeen = 1795319052) => new()
    {
        Scope = "demo",
        Name = "node2",
        PgState = "running",
        Role = "master",
        SystemIdentifier = "7710836552808695120",
        Dynamic = Dynamic,
        View = View(),
        DcsLastSeen = DateTimeOffset.FromUnixTimeSeconds(dcsLastSeen),
        LastLeaderRenewal = Now.AddSeconds(-1),
        NextCycleDue = Now.AddSeconds(1),
        Probe = new PostgresProbe
        {
            InRecovery = false,
            ServerVersion = 150018,
            PostmasterStartTime = At(2026, 11, 22, 3, 43, 58, 443679),
            Timeline = 1,
            WalFlushLsn = xlog,
            Replication =
            [
                new ReplicationRow("replicator", "node1", "127.0.0.1", "streaming", "async", 0),
                new ReplicationRow("replicator", "node3", "127.0.0.1", "streaming", "async", 0),
            ],
        },
    };

    public static NodeStatus Replica(long dcsLastSeen = 1795319052) => new()
    {
        Scope = "demo",
        Name = "node1",
        PgState = "running",
        Role = "replica",
        SystemIdentifier = "7710836552808695120",
        Dynamic = Dynamic,
        View = View(),
        DcsLastSeen = DateTimeOffset.FromUnixTimeSeconds(dcsLastSeen),
        NextCycleDue = Now.AddSeconds(1),
        Probe = new PostgresProbe
        {
            InRecovery = true,
            ServerVersion = 150018,
            PostmasterStartTime = At(2026, 11, 22, 3, 44, 0, 697459),
            Timeline = 1,
            ReceiveLsn = 67301872,
            ReplayLsn = 67301872,
            ReplayTimestamp = At(2026, 11, 22, 3, 44, 2, 936641),
            ReplicationState = "streaming",
        },
    };
}
