using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PgWarden.Api;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// patronictl 3.0.2's `list` / `topology` output (compat §4.3, §4.4), byte for byte: pretty (prettytable with the
/// cluster in the top border), tsv, json and yaml. Built from the same /cluster document the REST API serves.
/// </summary>
public static class ClusterTable
{
    private static readonly string[] OptionalColumns = ["Pending restart", "Scheduled restart", "Tags"];

    /// <summary>
    /// format: pretty | json | yaml (yml) | tsv | topology. includeSystemId puts "(sysid)" after the cluster name in
    /// the title as patronictl 3.2+ does; 3.0.x leaves it out. The result ends with a newline.
    /// </summary>
    public static string Render(ClusterView view, string clusterName, string format, bool extended, bool includeSystemId = true)
    {
        format = format.ToLowerInvariant();
        if (format is not ("pretty" or "json" or "yaml" or "yml" or "tsv" or "topology"))
            throw new ArgumentException($"Unknown output format '{format}': expected pretty, json, yaml, tsv or topology.", nameof(format));

        var doc = ClusterDocument.Build(view, clusterName);
        var members = doc["members"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var withHost = members.Where(m => m.ContainsKey("host")).ToList();

        var columns = new List<string> { "Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB" };
        foreach (var c in OptionalColumns)
        {
            if (extended || withHost.Any(m => IsTruthy(m[Key(c)]))) columns.Add(c);
        }

        var appendPort = withHost.Any(m => m["port"] is { } p && (int)p != 5432)
            || withHost.Select(m => (string?)m["host"]).Distinct().Count() < withHost.Count;

        var ordered = format == "topology" ? TopologySort(members) : members.Select(m => ((string)m["name"]!, m));
        var rows = new List<JsonNode?[]>();
        foreach (var (displayName, m) in ordered)
        {
            var host = (string?)m["host"] ?? "";
            if (appendPort && host.Length > 0 && m["port"] is { } port) host += ":" + (int)port;
            JsonNode? lag = m["lag"] is JsonValue lv && lv.TryGetValue<long>(out var bytes)
                ? (long)Math.Round(bytes / 1024d / 1024d, MidpointRounding.ToEven)
                : m["lag"]?.DeepClone() ?? "";
            var values = new Dictionary<string, JsonNode?>
            {
                ["Cluster"] = clusterName,
                ["Member"] = displayName,
                ["Host"] = host,
                ["Role"] = TitleCase(((string)m["role"]!).Replace('_', ' ')),
                ["State"] = (string?)m["state"] ?? "",
                ["TL"] = m["timeline"]?.DeepClone() ?? "",
                ["Lag in MB"] = lag,
                ["Pending restart"] = IsTruthy(m["pending_restart"]) ? "*" : "",
                ["Scheduled restart"] = ScheduledRestart(m["scheduled_restart"]),
                ["Tags"] = m["tags"]?.DeepClone() ?? "",
            };
            rows.Add([.. columns.Select(c => values[c])]);
        }

        var initialize = view.Initialize switch { null => "uninitialized", "" => "initializing", var s => s };
        var title = includeSystemId ? $" Cluster: {clusterName} ({initialize}) " : $" Cluster: {clusterName} ";
        var sb = new StringBuilder();
        sb.Append(Output.Print(columns, rows, ["TL", "Lag in MB"], format, title));

        if (format is "pretty" or "topology")
        {
            var info = ServiceInfo(doc);
            if (info.Count > 0) sb.Append(' ').Append(string.Join("\n ", info)).Append('\n');
        }
        return sb.ToString();
    }

    private static string Key(string column) => column.ToLowerInvariant().Replace(' ', '_');

    private static JsonNode? ScheduledRestart(JsonNode? scheduled)
    {
        if (scheduled is not JsonObject o) return "";
        var value = o["schedule"]?.ToString() ?? "";
        if (o["postgres_version"] is { } version) value += " if version < " + version;
        return value;
    }

    /// <summary>Python truthiness of a JSON value (missing, false, 0, "", {} and [] are false).</summary>
    private static bool IsTruthy(JsonNode? n) => n switch
    {
        null => false,
        JsonObject o => o.Count > 0,
        JsonArray a => a.Count > 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length > 0,
        JsonValue v when v.TryGetValue<double>(out var d) => d != 0,
        _ => true,
    };

    private static string TitleCase(string s)
    {
        var chars = s.ToCharArray();
        var startOfWord = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = startOfWord ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            startOfWord = !char.IsLetter(chars[i]);
        }
        return new string(chars);
    }

    /// <summary>Leader first, then replicas under the member their replicatefrom tag names, "+ " per level.</summary>
    private static IEnumerable<(string Name, JsonObject Member)> TopologySort(List<JsonObject> members)
    {
        static bool IsLeader(JsonObject m) => ((string)m["role"]!).EndsWith("leader", StringComparison.Ordinal);
        var leader = members.FirstOrDefault(IsLeader);
        var replicas = members.Where(m => !IsLeader(m)).Select(m => (string)m["name"]!).ToHashSet(StringComparer.Ordinal);
        var children = new Dictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        var leaderKey = leader is null ? "" : (string)leader["name"]!;
        foreach (var m in members.Where(m => !IsLeader(m)))
        {
            var parent = m["tags"]?["replicatefrom"]?.ToString();
            var name = (string)m["name"]!;
            var key = !string.IsNullOrEmpty(parent) && parent != name && replicas.Contains(parent) ? parent : leaderKey;
            if (!children.TryGetValue(key, out var list)) children[key] = list = [];
            list.Add(m);
        }

        var result = new List<(string, JsonObject)>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        void Walk(string key, int level)
        {
            if (!children.TryGetValue(key, out var list)) return;
            foreach (var m in list)
            {
                var name = (string)m["name"]!;
                if (!visited.Add(name)) continue; // a replicatefrom cycle would loop forever
                result.Add((new string(' ', (level - 1) * 2) + "+ " + name, m));
                Walk(name, level + 1);
            }
        }
        if (leader is not null)
        {
            result.Add((leaderKey, leader));
            visited.Add(leaderKey);
        }
        Walk(leaderKey, 1);
        return result;
    }

    /// <summary>The footer lines: maintenance mode and a scheduled switchover.</summary>
    private static List<string> ServiceInfo(JsonObject doc)
    {
        var info = new List<string>();
        if (doc["pause"] is JsonValue p && p.GetValue<bool>()) info.Add("Maintenance mode: on");
        if (doc["scheduled_switchover"] is JsonObject s)
        {
            var line = "Switchover scheduled at: " + s["at"];
            foreach (var name in new[] { "from", "to" })
            {
                if (s[name] is { } v) line += "\n" + name.PadLeft(24) + ": " + v;
            }
            info.Add(line);
        }
        return info;
    }

    internal static string Str(JsonNode? n) => n switch
    {
        null => "None",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "True" : "False",
        JsonValue v when v.TryGetValue<long>(out var l) => l.ToString(CultureInfo.InvariantCulture),
        _ => n.ToJsonString(),
    };
}
