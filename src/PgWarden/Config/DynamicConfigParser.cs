using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgWarden.Config;

/// <summary>
/// Reads the dynamic configuration (the DCS config key) the way a Patroni agent does: lenient, with defaults, and
/// Patroni 3.2+'s timeout adjustment (with lower floors) (so the leader lock can always be renewed in time); plus a strict validation
/// for edit-config / PATCH /config that rejects what the lenient reader would silently fix.
/// </summary>
public static class DynamicConfigParser
{
    // Patroni 3.2+ raises ttl to 20 and retry_timeout to 3. Safety comes from the relation
    // loop_wait + 2*retry_timeout <= ttl (kept below), not from the absolute values, and PgWarden's fast profile
    // (docs/failover.md, "Fast profile") runs below 20 s; so the floors are only what keeps the arithmetic meaningful.
    public const int MinTtl = 4;
    public const int MinLoopWait = 1;
    public const int MinRetryTimeout = 1;

    public static DynamicConfig Parse(JsonObject json, ICollection<string> warnings)
    {
        // Patroni reads loop_wait, retry_timeout, then ttl, raising each to its minimum.
        var loopWait = AtLeast("loop_wait", Int(json, "loop_wait", "seconds") ?? 10, MinLoopWait, warnings);
        var retryTimeout = AtLeast("retry_timeout", Int(json, "retry_timeout", "seconds") ?? 10, MinRetryTimeout, warnings);
        var ttl = AtLeast("ttl", Int(json, "ttl", "seconds") ?? 30, MinTtl, warnings);
        if (MinLoopWait + 2 * retryTimeout > ttl)
        {
            var newRetry = (ttl - MinLoopWait) / 2;
            warnings.Add($"Violated the rule \"loop_wait + 2*retry_timeout <= ttl\", where ttl={ttl}. Adjusting loop_wait from {loopWait} to {MinLoopWait} and retry_timeout from {retryTimeout} to {newRetry}");
            loopWait = MinLoopWait;
            retryTimeout = newRetry;
        }
        else if (loopWait + 2 * retryTimeout > ttl)
        {
            var newLoopWait = ttl - 2 * retryTimeout;
            warnings.Add($"Violated the rule \"loop_wait + 2*retry_timeout <= ttl\", where ttl={ttl} and retry_timeout={retryTimeout}. Adjusting loop_wait from {loopWait} to {newLoopWait}");
            loopWait = newLoopWait;
        }

        var postgresql = json["postgresql"] as JsonObject;
        var syncCount = Int(json, "synchronous_node_count", null) ?? 1;
        if (syncCount < 1)
        {
            warnings.Add($"synchronous_node_count={syncCount} can't be smaller than 1, adjusting...");
            syncCount = 1;
        }
        return new DynamicConfig
        {
            Ttl = (int)ttl,
            LoopWait = (int)loopWait,
            RetryTimeout = (int)retryTimeout,
            MaximumLagOnFailover = Int(json, "maximum_lag_on_failover", "bytes") ?? 1048576,
            PrimaryStartTimeout = (int)(Int(json, Renamed(json, "primary_start_timeout", "master_start_timeout"), "seconds") ?? 300),
            PrimaryStopTimeout = (int)(Int(json, Renamed(json, "primary_stop_timeout", "master_stop_timeout"), "seconds") ?? 0),
            Pause = Bool(json, "pause", false, warnings),
            CheckTimeline = Bool(json, "check_timeline", false, warnings),
            SynchronousMode = SynchronousMode(json, warnings),
            SynchronousModeStrict = Bool(json, "synchronous_mode_strict", false, warnings),
            SynchronousNodeCount = (int)syncCount,
            FailsafeMode = Bool(json, "failsafe_mode", false, warnings),
            MaxTimelinesHistory = (int)(Int(json, "max_timelines_history", null) ?? 0),
            UsePgRewind = postgresql is not null && Bool(postgresql, "use_pg_rewind", false, warnings, "postgresql."),
            UseSlots = postgresql is null || Bool(postgresql, "use_slots", true, warnings, "postgresql."),
            Parameters = Parameters(postgresql?["parameters"] as JsonObject),
            PgHba = postgresql?["pg_hba"] is JsonArray hba ? hba.Where(l => l is not null).Select(l => l!.ToString()).ToList() : [],
            Raw = json,
        };
    }

    /// <summary>
    /// Error messages for a config an operator is about to write; empty when it is acceptable. With
    /// timingRelation false the loop_wait + 2*retry_timeout &lt;= ttl rule is left out: a config file's bootstrap.dcs
    /// that breaks it is adjusted at load, as Patroni 3.2+ does, so existing Patroni files keep working.
    /// </summary>
    public static IReadOnlyList<string> ValidateStrict(JsonObject json, bool timingRelation = true)
    {
        var errors = new List<string>();
        long? Checked(JsonObject o, string key, string unit, long minimum, string prefix = "")
        {
            try
            {
                var value = Int(o, key, unit, prefix);
                if (value < minimum) errors.Add($"{prefix}{key}: {value} is below the minimum {minimum}");
                return value;
            }
            catch (ConfigException e)
            {
                errors.Add(e.Message);
                return null;
            }
        }
        var ttl = Checked(json, "ttl", "seconds", MinTtl) ?? 30;
        var loopWait = Checked(json, "loop_wait", "seconds", MinLoopWait) ?? 10;
        var retryTimeout = Checked(json, "retry_timeout", "seconds", MinRetryTimeout) ?? 10;
        if (timingRelation && loopWait + 2 * retryTimeout > ttl)
            errors.Add($"ttl {ttl} is below loop_wait + 2*retry_timeout = {loopWait + 2 * retryTimeout}");
        Checked(json, "maximum_lag_on_failover", "bytes", long.MinValue);
        Checked(json, "maximum_lag_on_syncnode", "bytes", long.MinValue);
        Checked(json, Renamed(json, "primary_start_timeout", "master_start_timeout"), "seconds", 0);
        Checked(json, Renamed(json, "primary_stop_timeout", "master_stop_timeout"), "seconds", 0);
        Checked(json, "synchronous_node_count", "", 1);
        Checked(json, "max_timelines_history", "", 0);
        foreach (var key in new[] { "pause", "check_timeline", "synchronous_mode_strict", "failsafe_mode" })
            CheckBool(json, key, "", errors);
        if (json["synchronous_mode"] is { } sync && ParseBool(sync) is null && !IsQuorum(sync))
            errors.Add($"synchronous_mode: '{Text(sync)}' is not a boolean or 'quorum'");

        switch (json["postgresql"])
        {
            case null:
                break;
            case JsonObject postgresql:
                CheckBool(postgresql, "use_pg_rewind", "postgresql.", errors);
                CheckBool(postgresql, "use_slots", "postgresql.", errors);
                switch (postgresql["parameters"])
                {
                    case null: break;
                    case JsonObject parameters: ProtectedParameters.Validate(parameters, errors); break;
                    default: errors.Add("postgresql.parameters: expected a mapping of parameter names to values"); break;
                }
                break;
            default:
                errors.Add("postgresql: expected a mapping");
                break;
        }
        return errors;
    }

    private static string Renamed(JsonObject json, string name, string legacy) =>
        json.ContainsKey(name) || !json.ContainsKey(legacy) ? name : legacy;

    private static long AtLeast(string key, long value, long minimum, ICollection<string> warnings)
    {
        if (value >= minimum) return value;
        warnings.Add($"{key}={value} can't be smaller than {minimum}, adjusting...");
        return minimum;
    }

    /// <summary>Python's int(): integer JSON numbers, floats truncated, strings of digits; null when absent.</summary>
    private static long? Int(JsonObject json, string key, string? unit, string prefix = "")
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.Number:
                    // By text, so int-, long- and element-backed values all work.
                    var number = v.ToJsonString();
                    if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                    if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && Math.Abs(d) < long.MaxValue)
                        return (long)Math.Truncate(d);
                    break;
                case JsonValueKind.String:
                    if (long.TryParse(v.GetValue<string>().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
                        return parsed;
                    break;
            }
        }
        var expected = string.IsNullOrEmpty(unit) ? "an integer" : $"an integer number of {unit}";
        throw new ConfigException(prefix + key, $"{prefix}{key}: '{Text(node)}' is not {expected}");
    }

    private static bool Bool(JsonObject json, string key, bool defaultValue, ICollection<string> warnings, string prefix = "")
    {
        var node = json[key];
        if (node is null) return defaultValue;
        if (ParseBool(node) is { } b) return b;
        warnings.Add($"{prefix}{key}: '{Text(node)}' is not a boolean, using {(defaultValue ? "true" : "false")}");
        return defaultValue;
    }

    private static void CheckBool(JsonObject json, string key, string prefix, List<string> errors)
    {
        if (json[key] is { } node && ParseBool(node) is null)
            errors.Add($"{prefix}{key}: '{Text(node)}' is not a boolean (expected true/false, on/off, yes/no or 1/0)");
    }

    /// <summary>Patroni's parse_bool over a JSON value: true/false, 1/0, and on/off/yes/no/true/false strings.</summary>
    public static bool? ParseBool(JsonNode node)
    {
        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.Number: return v.ToJsonString() switch { "1" => true, "0" => false, _ => null };
                case JsonValueKind.String: return YamlSection.ParseBool(v.GetValue<string>());
            }
        }
        return null;
    }

    private static bool IsQuorum(JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Trim().Equals("quorum", StringComparison.OrdinalIgnoreCase);

    private static string SynchronousMode(JsonObject json, ICollection<string> warnings)
    {
        var node = json["synchronous_mode"];
        if (node is null) return "off";
        if (IsQuorum(node)) return "quorum";
        if (ParseBool(node) is { } b) return b ? "on" : "off";
        warnings.Add($"synchronous_mode: '{Text(node)}' is not a boolean or 'quorum', using off");
        return "off";
    }

    private static IReadOnlyDictionary<string, string> Parameters(JsonObject? parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (parameters is null) return result;
        foreach (var (name, value) in parameters)
            if (value is not null) result[name] = ParameterText(value);
        return result;
    }

    /// <summary>A GUC value as PostgreSQL reads it: JSON numbers as written, booleans as on/off.</summary>
    public static string ParameterText(JsonNode value) => value switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "on",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "off",
        _ => value.ToJsonString(),
    };

    internal static string Text(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };
}
