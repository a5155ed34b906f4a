using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Lab;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>
/// iptables partitions of one node, built by the lab's rule builder (per-OS-user owner matches for new connections,
/// exact address:port pairs for connections that exist now), in a chain of the suite's own tagged
/// pgwarden-PREFIX-faults so only this developer's rules are ever touched.
/// </summary>
public static class NodePartition
{
    public static string Tag => $"pgwarden-{AgentCluster.UserPrefix}-faults";
    private static LabFirewall Firewall => new(Tag);

    /// <summary>from: etcd, peers or all (LabPartitionRules.Kinds). Returns the number of rules added.</summary>
    public static int Cut(AgentCluster cluster, ClusterNode node, string from)
    {
        LabPartitionRules.NodeTarget Target(ClusterNode n) =>
            new(n.Name, OsUser.Ensure(n.OsUserName).Uid, n.Spec.Address, [n.Spec.PgPort, n.Spec.RestPort]);
        var sockets = LabPartitionRules.ParseSs(OsUser.Run("ss", "-tnHe", "state", "established"));
        var rules = LabPartitionRules.Build(Target(node), cluster.Nodes.Where(n => n != node).Select(Target).ToList(),
            cluster.Etcd.Endpoints.Select(LabPartitionRules.Endpoint.Parse).ToList(), from, sockets);
        Firewall.Add(rules);
        return rules.Count;
    }

    public static void HealAll() => Firewall.RemoveAll();
}
