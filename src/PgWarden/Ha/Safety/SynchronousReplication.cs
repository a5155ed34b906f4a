using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha.Safety;

/// <summary>
/// The pure parts of Patroni's synchronous replication (compat §5.7): is the mode on, which streaming standbys to
/// pick, how synchronous_standby_names is spelled, and what the /sync key holds.
/// </summary>
public static partial class SynchronousReplication
{
    /// <summary>synchronous_mode on (quorum is treated as on: the priority form is the safe subset).</summary>
    public static bool IsOn(DynamicConfig d) => d.SynchronousMode is "on" or "quorum";

    public static bool IsStrict(DynamicConfig d) => IsOn(d) && d.SynchronousModeStrict;

    /// <summary>
    /// Patroni's current_state: streaming standbys that are members without nosync, the ones already synchronous
    /// first (no flapping), then the furthest ahead; at most synchronous_node_count picked. AllowPromote: the picked
    /// ones PostgreSQL already reports as sync_state 'sync' (only those may be published in /sync).
    /// </summary>
    public static (IReadOnlyList<string> Picked, IReadOnlyList<string> AllowPromote) Pick(ClusterView view, string me,
        IReadOnlyList<ReplicationRow> replication, int syncNodeCount)
    {
        var picked = new List<string>();
        var allow = new List<string>();
        var rows = replication
            .Where(r => r.State == "streaming")
            .OrderBy(r => r.SyncState == "sync" ? 0 : r.SyncState == "potential" ? 1 : 2)
            .ThenBy(r => r.ApplicationName, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var member = view.Members.FirstOrDefault(m => string.Equals(m.Name, row.ApplicationName, StringComparison.OrdinalIgnoreCase));
            if (member is null || member.Name == me) continue;
            if (member.Data.Tags?["nosync"] is { } tag && MemberTags.IsTruthy(tag)) continue;
            if (picked.Contains(member.Name)) continue;
            picked.Add(member.Name);
            if (row.SyncState == "sync") allow.Add(member.Name);
            if (picked.Count >= Math.Max(1, syncNodeCount)) break;
        }
        return (picked, allow);
    }

    /// <summary>Patroni's spelling: one name → name; several → "N (a,b)"; none → "" (or "*" passed in by strict mode).</summary>
    public static string Format(IReadOnlyCollection<string> names)
    {
        if (names.Count == 0) return "";
        if (names.Contains("*")) return "*";
        var joined = string.Join(",", names.Order(StringComparer.Ordinal).Select(QuoteIdent));
        return names.Count > 1 ? $"{names.Count} ({joined})" : joined;
    }

    /// <summary>The names in a synchronous_standby_names value we wrote (either form), unquoted.</summary>
    public static IReadOnlyList<string> Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return [];
        var v = value.Trim();
        var open = v.IndexOf('(');
        if (open >= 0 && v.EndsWith(')')) v = v[(open + 1)..^1];
        return v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.Length > 1 && n[0] == '"' && n[^1] == '"' ? n[1..^1].Replace("\"\"", "\"") : n)
            .ToList();
    }

    public static string QuoteIdent(string name) =>
        PlainIdentifier().IsMatch(name) ? name : "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary>The /sync value: {"leader": me, "sync_standby": "a,b" or null}.</summary>
    public static string SyncKeyJson(string leader, IReadOnlyCollection<string> standbys) => new JsonObject
    {
        ["leader"] = leader,
        ["sync_standby"] = standbys.Count == 0 ? null : string.Join(",", standbys.Order(StringComparer.Ordinal)),
    }.ToJsonString();

    /// <summary>Patroni's SyncState.matches: the name is the sync leader or one of its standbys.</summary>
    public static bool Matches(SyncState? sync, string name) =>
        sync is not null && (string.Equals(sync.Leader, name, StringComparison.OrdinalIgnoreCase)
                             || sync.SyncStandbys.Any(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The /sync key says who may be promoted (it has a leader); an empty key restricts nobody.</summary>
    public static bool Restricts(SyncState? sync) => sync is not null && !string.IsNullOrEmpty(sync.Leader);

    [GeneratedRegex("^[a-z_][a-z0-9_$]*$")]
    private static partial Regex PlainIdentifier();
}
