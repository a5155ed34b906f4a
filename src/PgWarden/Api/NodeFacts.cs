using PgWarden.Config;
using PgWarden.Ha;

namespace PgWarden.Api;

/// <summary>
/// The few facts the status document, the health rules and /metrics all derive from one NodeStatus snapshot
/// plus the postmaster probe, computed in one place so the three never disagree.
/// </summary>
public readonly record struct NodeFacts
{
    /// <summary>The "state" field: the loop's PostgreSQL state, "unknown" when it says running but the postmaster is gone.</summary>
    public required string State { get; init; }
    /// <summary>The "role" field: master/replica from the probe when PostgreSQL answers, else the loop's role.</summary>
    public required string Role { get; init; }
    /// <summary>True when the probe's fields (xlog, timeline, replication ...) may be shown.</summary>
    public required bool ProbeUsable { get; init; }
    public required DynamicConfig Dynamic { get; init; }
    public required bool IsStandbyCluster { get; init; }

    public static NodeFacts From(NodeStatus status, bool postmasterHealthy)
    {
        var dynamic = status.View?.Config?.Value ?? status.Dynamic;
        var standbyCluster = IsStandbyClusterConfig(dynamic);
        // Patroni queries PostgreSQL only in these states; a failed query turns "running" into "unknown".
        var queried = status.PgState is "running" or "restarting" or "starting";
        var usable = queried && postmasterHealthy && status.Probe is not null;
        if (!usable)
        {
            var state = status.PgState == "running" ? "unknown" : status.PgState;
            return new NodeFacts { State = state, Role = status.Role, ProbeUsable = false, Dynamic = dynamic, IsStandbyCluster = standbyCluster };
        }

        var role = status.Probe!.InRecovery ? "replica" : "master";
        if (role == "replica" && standbyCluster) role = status.Role;
        return new NodeFacts { State = status.PgState, Role = role, ProbeUsable = true, Dynamic = dynamic, IsStandbyCluster = standbyCluster };
    }

    /// <summary>Patroni: a standby cluster is configured when standby_cluster has host, port or restore_command.</summary>
    public static bool IsStandbyClusterConfig(DynamicConfig dynamic) =>
        dynamic.Raw.TryGetPropertyValue("standby_cluster", out var sc) && sc is System.Text.Json.Nodes.JsonObject o
        && (Has(o, "host") || Has(o, "port") || Has(o, "restore_command"));

    private static bool Has(System.Text.Json.Nodes.JsonObject o, string key) =>
        o.TryGetPropertyValue(key, out var v) && v is not null && v.ToString().Length > 0;

    /// <summary>The primary role string: 3.x writes master, 4.x primary; both are read.</summary>
    public static bool IsPrimaryRole(string role) => role is "master" or "primary";
}
