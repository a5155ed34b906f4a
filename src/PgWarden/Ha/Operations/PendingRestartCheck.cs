using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.Postgres;

namespace PgWarden.Ha.Operations;

/// <summary>One parameter waiting for a restart: what the server runs with and what the configuration says.</summary>
public sealed record PendingParameter(string Name, string OldValue, string NewValue);

/// <summary>
/// Which postmaster-context parameters differ between the configuration PgWarden wrote and the running server
/// (pg_settings), plus whatever PostgreSQL itself flags as pending_restart (changes made outside PgWarden).
/// Recovery parameters and hot_standby are excluded, as Patroni does.
/// </summary>
internal static class PendingRestartCheck
{
    private const string Sql = "SELECT name, setting, unit, vartype, pending_restart FROM pg_catalog.pg_settings WHERE context = 'postmaster' OR pending_restart";

    public static async Task<IReadOnlyList<PendingParameter>> RunAsync(LocalConnections connections, IReadOnlyDictionary<string, string> desired, CancellationToken ct)
    {
        var rows = await connections.WithPooledAsync(async (conn, token) =>
        {
            var list = new List<(string Name, string Setting, string? Unit, string Vartype, bool Pending)>();
            await using var cmd = new NpgsqlCommand(Sql, conn);
            await using var reader = await cmd.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
                list.Add((reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetString(3), reader.GetBoolean(4)));
            return list;
        }, TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
        return Compare(rows, desired);
    }

    public static IReadOnlyList<PendingParameter> Compare(
        IEnumerable<(string Name, string Setting, string? Unit, string Vartype, bool Pending)> rows, IReadOnlyDictionary<string, string> desired)
    {
        var result = new List<PendingParameter>();
        foreach (var (name, setting, unit, vartype, pending) in rows)
        {
            if (name == "hot_standby" || PostgresParameters.RecoveryParameters.Contains(name)) continue;
            if (desired.TryGetValue(name, out var wanted))
            {
                if (!GucValue.Same(wanted, setting, unit, vartype))
                    result.Add(new PendingParameter(name, GucValue.Display(setting, unit), wanted));
            }
            else if (pending)
            {
                result.Add(new PendingParameter(name, GucValue.Display(setting, unit), "?"));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>pending_restart_reason as Patroni 3.3+ writes it: {name: {old_value, new_value}}.</summary>
    public static JsonObject? ToJson(IReadOnlyList<PendingParameter> pending)
    {
        if (pending.Count == 0) return null;
        var o = new JsonObject();
        foreach (var p in pending) o[p.Name] = new JsonObject { ["old_value"] = p.OldValue, ["new_value"] = p.NewValue };
        return o;
    }
}
