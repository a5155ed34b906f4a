using System.Globalization;
using System.Text;
using PgWarden.Ha;

namespace PgWarden.Api;

/// <summary>
/// GET /metrics in Patroni 3.0.x's Prometheus text (compat §2.6): the same names, HELP texts, the single
/// {scope="..."} label and even the stray space before the labels of patroni_postgres_server_version, so
/// dashboards and alerts written for Patroni keep working.
/// </summary>
public static class MetricsDocument
{
    public static string Build(NodeStatus status, bool postmasterHealthy)
    {
        var facts = NodeFacts.From(status, postmasterHealthy);
        var probe = facts.ProbeUsable ? status.Probe : null;
        var inRecovery = probe?.InRecovery == true;
        var label = "{scope=\"" + status.Scope + "\"}";
        var sb = new StringBuilder(4096);

        void Metric(string name, string help, string type, string value, string labelPrefix = "")
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            sb.Append(name).Append(labelPrefix).Append(label).Append(' ').Append(value).Append('\n');
        }
        static string B(bool b) => b ? "1" : "0";
        static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

        var isMaster = NodeFacts.IsPrimaryRole(facts.Role);
        Metric("patroni_version", "Patroni semver without periods.", "gauge", PaddedSemver(PatroniWire.Version));
        Metric("patroni_postgres_running", "Value is 1 if Postgres is running, 0 otherwise.", "gauge", B(facts.State == "running"));
        Metric("patroni_postmaster_start_time", "Epoch seconds since Postgres started.", "gauge",
            probe?.PostmasterStartTime is { } started ? PythonFormat.EpochSeconds(started) : "0");
        Metric("patroni_master", "Value is 1 if this node is the leader, 0 otherwise.", "gauge", B(isMaster));
        Metric("patroni_primary", "Value is 1 if this node is the leader, 0 otherwise.", "gauge", B(isMaster));
        Metric("patroni_xlog_location", "Current location of the Postgres transaction log, 0 if this node is not the leader.",
            "counter", N(probe is not null && !inRecovery ? probe.WalFlushLsn ?? 0 : 0));
        Metric("patroni_standby_leader", "Value is 1 if this node is the standby_leader, 0 otherwise.", "gauge", B(facts.Role == "standby_leader"));
        Metric("patroni_replica", "Value is 1 if this node is a replica, 0 otherwise.", "gauge", B(facts.Role == "replica"));
        Metric("patroni_sync_standby", "Value is 1 if this node is a sync standby replica, 0 otherwise.", "gauge",
            B(status.View is not null && HealthRules.SyncMembership(status, facts).Sync));
        var received = inRecovery ? (probe!.ReceiveLsn is > 0 ? probe.ReceiveLsn : probe.ReplayLsn) ?? 0 : 0;
        Metric("patroni_xlog_received_location",
            "Current location of the received Postgres transaction log, 0 if this node is not a replica.", "counter", N(received));
        Metric("patroni_xlog_replayed_location",
            "Current location of the replayed Postgres transaction log, 0 if this node is not a replica.", "counter",
            N(inRecovery ? probe!.ReplayLsn ?? 0 : 0));
        Metric("patroni_xlog_replayed_timestamp",
            "Current timestamp of the replayed Postgres transaction log, 0 if null.", "gauge",
            inRecovery && probe!.ReplayTimestamp is { } replayedAt ? PythonFormat.EpochSeconds(replayedAt) : "0");
        Metric("patroni_xlog_paused", "Value is 1 if the Postgres xlog is paused, 0 otherwise.", "gauge", B(inRecovery && probe!.ReplayPaused));
        Metric("patroni_postgres_server_version", "Version of Postgres (if running), 0 otherwise.", "gauge",
            N(probe?.ServerVersion ?? 0), labelPrefix: " ");
        Metric("patroni_cluster_unlocked", "Value is 1 if the cluster is unlocked, 0 if locked.", "gauge",
            B(status.View is null || status.View.IsUnlocked));
        // Patroni 3.0.x ships this HELP text copied from cluster_unlocked; kept for byte-compatibility.
        Metric("patroni_failsafe_mode_is_active", "Value is 1 if the cluster is unlocked, 0 if locked.", "gauge", "0");
        Metric("patroni_postgres_timeline", "Postgres timeline of this node (if running), 0 otherwise.", "counter",
            N(probe?.Timeline ?? 0));
        Metric("patroni_dcs_last_seen", "Epoch timestamp when DCS was last contacted successfully by Patroni.", "gauge",
            N(status.DcsLastSeen?.ToUnixTimeSeconds() ?? 0));
        Metric("patroni_pending_restart", "Value is 1 if the node needs a restart, 0 otherwise.", "gauge",
            B(status.PendingRestart || probe?.PendingRestart == true));
        Metric("patroni_is_paused", "Value is 1 if auto failover is disabled, 0 otherwise.", "gauge", B(status.IsPaused));
        return sb.ToString();
    }

    /// <summary>"3.0.2" -> "030002", as Patroni's ''.join(x.zfill(2)).</summary>
    public static string PaddedSemver(string version) =>
        string.Concat(version.Split('.').Select(p => p.PadLeft(2, '0')));
}
