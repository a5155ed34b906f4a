using System.Globalization;
using System.Text;
using PgWarden.Dcs;

namespace PgWarden.Lab;

/// <summary>Everything that differs between the Patroni-format YAML files of a local cluster's nodes.</summary>
public sealed record NodeSpec(string Name, string Address, string DataDir, string PgpassPath)
{
    public int PgPort { get; init; } = 5432;
    public int RestPort { get; init; } = 8008;
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    /// <summary>Extra top-level YAML appended to this node's file (e.g. a watchdog: section).</summary>
    public string ExtraYaml { get; init; } = "";
}

/// <summary>
/// Cluster-wide settings of a local cluster (the lab, the integration tests, the benchmark). EtcdHosts are the
/// host:port entries of whichever store Dcs names (etcd3, etcd v2 or ZooKeeper).
/// </summary>
public sealed record LabClusterSpec(string Scope, IReadOnlyList<string> EtcdHosts)
{
    public DcsKind Dcs { get; init; } = DcsKind.Etcd3;
    public int Ttl { get; init; } = 30;
    public int LoopWait { get; init; } = 10;
    public int RetryTimeout { get; init; } = 10;
    public string BinDir { get; init; } = "/usr/lib/postgresql/15/bin";
    public string SuperuserPassword { get; init; } = "postgres-secret";
    public string ReplicationPassword { get; init; } = "replicator-secret";
    public bool UsePgRewind { get; init; } = true;

    /// <summary>
    /// When set, written as postgresql.authentication.rewind (with the superuser's password when the name is the
    /// superuser's). Patroni 3.0.2's --validate-config insists on it when use_pg_rewind is on; null keeps the
    /// file as it was (the rewind falls back to the superuser).
    /// </summary>
    public string? RewindUser { get; init; }

    public string? RewindPassword { get; init; }

    /// <summary>
    /// Where shared_buffers (32MB) is written: in the node's own postgresql.parameters (default) or in
    /// bootstrap.dcs. Local parameters win over the DCS in Patroni, so a cluster whose shared_buffers is to be
    /// changed with `patronictl edit-config` (the benchmark) must keep it in the DCS.
    /// </summary>
    public bool SharedBuffersInDcs { get; init; }

    /// <summary>Extra bootstrap.dcs keys (name → YAML scalar), e.g. synchronous_mode: true, failsafe_mode: true.</summary>
    public IReadOnlyDictionary<string, string> ExtraDcs { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Writes a node's configuration as a plain Patroni YAML file, so what the lab and the tests run is exactly what
/// a user would copy into production (and what Patroni itself accepts).
/// </summary>
public static class NodeConfigTemplate
{
    public static string Render(LabClusterSpec cluster, NodeSpec node)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"""
            scope: {cluster.Scope}
            namespace: /service/
            name: {node.Name}

            restapi:
              listen: {node.Address}:{node.RestPort}
              connect_address: {node.Address}:{node.RestPort}

            {DcsSection(cluster.Dcs, cluster.EtcdHosts)}
            bootstrap:
              dcs:
                ttl: {cluster.Ttl}
                loop_wait: {cluster.LoopWait}
                retry_timeout: {cluster.RetryTimeout}
                maximum_lag_on_failover: 1048576{ExtraDcsLines(cluster.ExtraDcs)}
                postgresql:
                  use_pg_rewind: {(cluster.UsePgRewind ? "true" : "false")}
                  use_slots: true
                  parameters:
                    wal_level: replica
                    hot_standby: "on"
                    max_connections: 100
                    max_wal_senders: 10
                    max_replication_slots: 10
                    wal_keep_size: 128MB
                    wal_log_hints: "on"
            {(cluster.SharedBuffersInDcs ? "        shared_buffers: 32MB" : "")}
              initdb:
              - encoding: UTF8
              - data-checksums
              pg_hba:
              - host replication replicator 127.0.0.1/32 scram-sha-256
              - host all all 127.0.0.1/32 scram-sha-256

            postgresql:
              listen: {node.Address}:{node.PgPort}
              connect_address: {node.Address}:{node.PgPort}
              data_dir: {node.DataDir}
              bin_dir: {cluster.BinDir}
              pgpass: {node.PgpassPath}
              authentication:
                superuser:
                  username: postgres
                  password: {cluster.SuperuserPassword}
                replication:
                  username: replicator
                  password: {cluster.ReplicationPassword}
            {RewindBlock(cluster)}
              parameters:
                unix_socket_directories: '{Path.GetDirectoryName(node.DataDir)}'
            {(cluster.SharedBuffersInDcs ? "" : "    shared_buffers: 32MB")}
              pg_hba:
              - local all all trust
              - host replication replicator 127.0.0.1/32 scram-sha-256
              - host all all 127.0.0.1/32 scram-sha-256

            """);
        if (node.Tags.Count > 0)
        {
            sb.Append("tags:\n");
            foreach (var (k, v) in node.Tags) sb.Append(inv, $"  {k}: {v}\n");
        }
        if (node.ExtraYaml.Length > 0) sb.Append(node.ExtraYaml.TrimEnd('\n')).Append('\n');
        return sb.ToString();
    }

    private static string ExtraDcsLines(IReadOnlyDictionary<string, string> extra) =>
        string.Concat(extra.Select(kv => $"\n    {kv.Key}: {kv.Value}"));

    /// <summary>The DCS section of a node's YAML ("etcd3:", "etcd:" or "zookeeper:" with a hosts line), newline-terminated.</summary>
    public static string DcsSection(DcsKind dcs, IReadOnlyList<string> hosts) =>
        $"{dcs.SectionName()}:\n  hosts: {string.Join(",", hosts)}\n";

    private static string RewindBlock(LabClusterSpec cluster) =>
        cluster.RewindUser is not { } user
            ? ""
            : $"    rewind:\n      username: {user}\n      password: {cluster.RewindPassword ?? cluster.SuperuserPassword}";
}
