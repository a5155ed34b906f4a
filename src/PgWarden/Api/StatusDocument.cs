using System.Text;
using System.Text.Json.Nodes;
using PgWarden.Ha;

namespace PgWarden.Api;

/// <summary>
/// The body of GET /patroni and of every health check (compat §2.2), with Patroni 3.0.2's field order, built
/// from the published snapshot only. Peers racing for the lock read xlog and role from it.
/// </summary>
public static class StatusDocument
{
    /// <summary>
    /// The document as a JSON object. includeName adds patroni.name (what 3.2+ sends); 3.0.2 does not.
    /// </summary>
    public static JsonObject Build(NodeStatus status, bool postmasterHealthy, bool includeName = false)
    {
        var facts = NodeFacts.From(status, postmasterHealthy);
        var doc = new JsonObject { ["state"] = facts.State };
        if (facts.ProbeUsable)
        {
            var probe = status.Probe!;
            doc["postmaster_start_time"] = probe.PostmasterStartTime is { } started ? PythonFormat.DateTime(started) : null;
            doc["role"] = facts.Role;
            doc["server_version"] = probe.ServerVersion;
            if (probe.InRecovery)
            {
                doc["xlog"] = new JsonObject
                {
                    ["received_location"] = probe.ReceiveLsn is > 0 ? probe.ReceiveLsn : probe.ReplayLsn,
                    ["replayed_location"] = probe.ReplayLsn,
                    ["replayed_timestamp"] = probe.ReplayTimestamp is { } replayedAt ? PythonFormat.DateTime(replayedAt) : null,
                    ["paused"] = probe.ReplayPaused,
                };
            }
            else
            {
                doc["xlog"] = new JsonObject { ["location"] = probe.WalFlushLsn };
            }
            doc["timeline"] = probe.Timeline > 0 ? probe.Timeline : null;
            if (probe.Replication.Count > 0)
            {
                var rows = new JsonArray();
                foreach (var r in probe.Replication)
                {
                    rows.Add((JsonNode)new JsonObject // Add(JsonNode), not the reflection-based generic Add<T>
                    {
                        ["usename"] = r.Usename,
                        ["application_name"] = r.ApplicationName,
                        ["client_addr"] = r.ClientAddr,
                        ["state"] = r.State,
                        ["sync_state"] = r.SyncState,
                        ["sync_priority"] = r.SyncPriority,
                    });
                }
                doc["replication"] = rows;
            }
        }
        else
        {
            doc["role"] = facts.Role;
        }

        if (status.View is null || status.View.IsUnlocked) doc["cluster_unlocked"] = true;
        if (status.FailsafeActive) doc["failsafe_mode_is_active"] = true;
        doc["dcs_last_seen"] = status.DcsLastSeen?.ToUnixTimeSeconds() ?? 0;
        var tags = status.Tags.ToMemberJson();
        if (tags.Count > 0) doc["tags"] = tags;
        if (!string.IsNullOrEmpty(status.SystemIdentifier)) doc["database_system_identifier"] = status.SystemIdentifier;
        if (status.PendingRestart || (facts.ProbeUsable && status.Probe!.PendingRestart)) doc["pending_restart"] = true;
        if (Ha.Operations.PendingRestartCheck.ToJson(status.PendingRestartParameters) is { } reason) doc["pending_restart_reason"] = reason;
        if (status.ScheduledRestart is { } scheduled)
        {
            // Patroni shows the request without the postmaster start time it keeps for itself.
            var shown = (JsonObject)scheduled.DeepClone();
            shown.Remove("postmaster_start_time");
            doc["scheduled_restart"] = shown;
        }
        var patroni = new JsonObject { ["version"] = PatroniWire.Version, ["scope"] = status.Scope };
        if (includeName) patroni["name"] = status.Name;
        doc["patroni"] = patroni;
        if (status.IsPaused) doc["pause"] = true;
        if (status.WatchdogFailed) doc["watchdog_failed"] = true;
        return doc;
    }

    /// <summary>The document as Python's json.dumps writes it.</summary>
    public static string Serialize(NodeStatus status, bool postmasterHealthy, bool includeName = false) =>
        PythonJson.Serialize(Build(status, postmasterHealthy, includeName));

    public static byte[] SerializeUtf8(NodeStatus status, bool postmasterHealthy, bool includeName = false) =>
        Encoding.UTF8.GetBytes(Serialize(status, postmasterHealthy, includeName));
}
