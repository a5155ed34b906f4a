using System.Text.Json.Nodes;
using PgWarden.Dcs;

namespace PgWarden.Api;

/// <summary>
/// The GET /cluster body, Patroni 3.0's cluster_as_json: what patronictl list shows, built from one DCS read.
/// </summary>
public static class ClusterDocument
{
    /// <summary>includeScope adds the top-level "scope" (3.2+); 3.0.2 does not send it.</summary>
    public static JsonObject Build(ClusterView view, string scope, bool includeScope = false)
    {
        var leaderName = view.Leader?.Name;
        var dynamic = view.Config?.Value;
        var standbyCluster = dynamic is not null && NodeFacts.IsStandbyClusterConfig(dynamic);
        var clusterLsn = view.LeaderOptime ?? 0;

        var members = new JsonArray();
        foreach (var m in view.Members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            var d = m.Data;
            var isLeader = m.Name == leaderName;
            string role = isLeader ? (standbyCluster ? "standby_leader" : "leader")
                : IsSyncStandby(view, m.Name) ? "sync_standby" : "replica";
            var state = !isLeader && !string.IsNullOrEmpty(d.ReplicationState) ? d.ReplicationState : d.State ?? "";

            var member = new JsonObject
            {
                ["name"] = m.Name,
                ["role"] = role,
                ["state"] = state,
                ["api_url"] = d.ApiUrl,
            };
            var (host, port) = HostAndPort(d.ConnUrl);
            if (!string.IsNullOrEmpty(host))
            {
                member["host"] = host;
                if (port is { } p) member["port"] = p;
            }
            if (d.Timeline is { } tl) member["timeline"] = tl;
            if (d.PendingRestart) member["pending_restart"] = true;
            if (d.ScheduledRestart is not null) member["scheduled_restart"] = d.ScheduledRestart.DeepClone();
            if (d.Tags is not null) member["tags"] = d.Tags.DeepClone();
            if (!isLeader)
            {
                member["lag"] = d.XlogLocation is not { } lsn ? "unknown" : Math.Max(0, clusterLsn - lsn);
            }
            members.Add((JsonNode)member); // Add(JsonNode), not the reflection-based generic Add<T>
        }

        var doc = new JsonObject { ["members"] = members };
        if (includeScope) doc["scope"] = scope;
        if (dynamic?.Pause == true) doc["pause"] = true;
        if (view.Failover is { ScheduledAt: { } at } failover)
        {
            var scheduled = new JsonObject { ["at"] = PythonFormat.IsoFormat(at) };
            if (!string.IsNullOrEmpty(failover.Leader)) scheduled["from"] = failover.Leader;
            if (!string.IsNullOrEmpty(failover.Candidate)) scheduled["to"] = failover.Candidate;
            doc["scheduled_switchover"] = scheduled;
        }
        return doc;
    }

    /// <summary>3.x marks a member sync_standby whenever the sync key lists it (compared case-insensitively).</summary>
    private static bool IsSyncStandby(ClusterView view, string name) =>
        view.Sync is { } sync && sync.SyncStandbys.Any(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Host and port from conn_url; the port only when the URL has one (as Patroni's conn_kwargs).</summary>
    public static (string? Host, int? Port) HostAndPort(string? connUrl)
    {
        if (string.IsNullOrEmpty(connUrl) || !Uri.TryCreate(connUrl, UriKind.Absolute, out var u)) return (null, null);
        var host = u.Host.Trim('[', ']');
        return (host, u.Port > 0 ? u.Port : null);
    }
}
