using System.Text.Json;
using Npgsql;

namespace PgWarden.Postgres;

/// <summary>The single SELECT the probe runs, and its reading into a <see cref="PostgresProbe"/>.</summary>
internal static class ProbeQuery
{
    public const string Sql = """
        SELECT
          pg_catalog.pg_is_in_recovery(),
          pg_catalog.current_setting('server_version_num')::int,
          pg_catalog.pg_postmaster_start_time(),
          CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
               ELSE (pg_catalog.pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint END,
          (pg_catalog.pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::bigint,
          (pg_catalog.pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,
          pg_catalog.pg_last_xact_replay_timestamp(),
          CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_is_wal_replay_paused() ELSE false END,
          CASE WHEN pg_catalog.pg_is_in_recovery()
               THEN COALESCE(wr.received_tli, (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()))
               ELSE ('x' || pg_catalog.substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_flush_lsn()), 1, 8))::bit(32)::int
          END,
          wr.status,
          wr.sender_host,
          (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                    'usename', r.usename, 'application_name', r.application_name,
                    'client_addr', pg_catalog.host(r.client_addr), 'state', r.state,
                    'sync_state', r.sync_state, 'sync_priority', r.sync_priority) ORDER BY r.application_name)
             FROM pg_catalog.pg_stat_replication r)::text,
          ARRAY(SELECT s.name FROM pg_catalog.pg_settings s WHERE s.pending_restart ORDER BY s.name),
          ARRAY(SELECT sl.slot_name::text FROM pg_catalog.pg_replication_slots sl WHERE sl.slot_type = 'physical' ORDER BY 1)
        FROM (SELECT 1) AS one
        LEFT JOIN pg_catalog.pg_stat_get_wal_receiver() AS wr ON wr.pid IS NOT NULL
        """;

    public static async Task<PostgresProbe> RunAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(Sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            throw new InvalidOperationException("The probe query returned no row.");
        var inRecovery = reader.GetBoolean(0);
        var pending = reader.IsDBNull(12) ? [] : PendingRestartParameters(reader.GetFieldValue<string[]>(12));
        return new PostgresProbe
        {
            InRecovery = inRecovery,
            ServerVersion = reader.GetInt32(1),
            PostmasterStartTime = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
            WalFlushLsn = reader.IsDBNull(3) ? null : reader.GetInt64(3),
            ReceiveLsn = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            ReplayLsn = reader.IsDBNull(5) ? null : reader.GetInt64(5),
            ReplayTimestamp = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
            ReplayPaused = reader.GetBoolean(7),
            Timeline = reader.IsDBNull(8) ? 0 : reader.GetInt32(8),
            ReplicationState = !inRecovery ? null : !reader.IsDBNull(9) && reader.GetString(9) == "streaming" ? "streaming" : "in archive recovery",
            ReceiverHost = reader.IsDBNull(10) ? null : reader.GetString(10),
            Replication = reader.IsDBNull(11) ? [] : ParseReplication(reader.GetString(11)),
            PendingRestart = pending.Length > 0,
            PendingRestartParameters = pending,
            ReplicationSlots = reader.IsDBNull(13) ? [] : reader.GetFieldValue<string[]>(13),
        };
    }

    internal static IReadOnlyList<ReplicationRow> ParseReplication(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var rows = new List<ReplicationRow>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            rows.Add(new ReplicationRow(
                Str(e, "usename") ?? "",
                Str(e, "application_name") ?? "",
                Str(e, "client_addr"),
                Str(e, "state") ?? "",
                Str(e, "sync_state") ?? "",
                e.TryGetProperty("sync_priority", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0));
        }
        return rows;

        static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    /// <summary>
    /// The parameters that really need a restart. Recovery settings and hot_standby change with the role (a
    /// promotion drops recovery_target_timeline, which PostgreSQL then flags as pending): as in Patroni, they never
    /// make a node "pending restart".
    /// </summary>
    internal static string[] PendingRestartParameters(IEnumerable<string> flaggedByPostgres) =>
        flaggedByPostgres.Where(name => name != "hot_standby" && !PostgresParameters.RecoveryParameters.Contains(name)).ToArray();
}
