using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PgWarden.Config;

/// <summary>
/// The PostgreSQL parameters Patroni sets on the postmaster command line and only takes from the dynamic
/// configuration (compat reference §3.6), with their defaults and validity rules.
/// </summary>
public static partial class ProtectedParameters
{
    /// <summary>Default values written when the dynamic configuration does not set them.</summary>
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["wal_level"] = "hot_standby",
        ["hot_standby"] = "on",
        ["max_connections"] = "100",
        ["max_wal_senders"] = "10",
        ["wal_keep_segments"] = "8",
        ["wal_keep_size"] = "128MB",
        ["max_prepared_transactions"] = "0",
        ["max_locks_per_transaction"] = "64",
        ["track_commit_timestamp"] = "off",
        ["max_replication_slots"] = "10",
        ["max_worker_processes"] = "8",
        ["wal_log_hints"] = "on",
    };

    private static readonly Dictionary<string, long> IntMinimums = new(StringComparer.OrdinalIgnoreCase)
    {
        ["max_connections"] = 25,
        ["max_wal_senders"] = 3,
        ["wal_keep_segments"] = 1,
        ["max_prepared_transactions"] = 0,
        ["max_locks_per_transaction"] = 32,
        ["max_replication_slots"] = 4,
        ["max_worker_processes"] = 2,
    };

    [GeneratedRegex(@"^\s*([-+]?[0-9]+)\s*(kB|MB|GB|TB)?\s*$")]
    private static partial Regex SizePattern();

    /// <summary>Adds one message per invalid protected parameter in a postgresql.parameters object.</summary>
    public static void Validate(JsonObject parameters, ICollection<string> errors)
    {
        foreach (var (name, node) in parameters)
        {
            if (node is null) continue;
            var text = DynamicConfigParser.ParameterText(node);
            var key = name.ToLowerInvariant();
            if (IntMinimums.TryGetValue(key, out var minimum))
            {
                if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                    errors.Add($"{name}: '{text}' is not an integer");
                else if (value < minimum)
                    errors.Add($"{name}: {value} is below the minimum {minimum}");
                continue;
            }
            switch (key)
            {
                case "wal_level" when text.ToLowerInvariant() is not ("hot_standby" or "replica" or "logical"):
                    errors.Add($"{name}: '{text}' is not one of hot_standby, replica, logical");
                    break;
                case "hot_standby" when YamlSection.ParseBool(text) != true:
                    errors.Add($"{name}: '{text}' is not allowed, it must be on");
                    break;
                case "track_commit_timestamp" or "wal_log_hints" when YamlSection.ParseBool(text) is null:
                    errors.Add($"{name}: '{text}' is not a boolean (on/off)");
                    break;
                case "wal_keep_size":
                    var mb = SizeInMegabytes(text);
                    if (mb is null) errors.Add($"{name}: '{text}' is not a size like 128MB");
                    else if (mb < 16) errors.Add($"{name}: '{text}' is below the minimum 16MB");
                    break;
            }
        }
    }

    /// <summary>A size in MB (a bare number is MB, as for wal_keep_size); null when not a size.</summary>
    public static double? SizeInMegabytes(string text)
    {
        var m = SizePattern().Match(text);
        if (!m.Success) return null;
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            "kB" => value / 1024,
            "GB" => value * 1024,
            "TB" => value * 1024 * 1024,
            _ => value,
        };
    }
}
