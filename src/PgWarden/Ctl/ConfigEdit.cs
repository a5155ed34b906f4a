using System.Text.Json.Nodes;
using PgWarden.Config;

namespace PgWarden.Ctl;

/// <summary>The edits edit-config applies to the dynamic configuration, as patronictl does them.</summary>
public static class ConfigEdit
{
    /// <summary>
    /// -s key.path=value: the value is YAML-parsed, null deletes; everything after "postgresql.parameters." is one
    /// parameter name (GUCs may contain dots).
    /// </summary>
    public static void Set(JsonObject config, string assignment)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(assignment);
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new ConfigException("--set", $"'{assignment}' is not key.path=value");
        var path = assignment[..eq].Trim();
        var value = ParseValue(assignment[(eq + 1)..]);
        const string Parameters = "postgresql.parameters.";
        var keys = path.StartsWith(Parameters, StringComparison.Ordinal)
            ? ["postgresql", "parameters", path[Parameters.Length..]]
            : path.Split('.');
        var node = config;
        for (var i = 0; i < keys.Length - 1; i++)
        {
            if (node[keys[i]] is JsonObject child) { node = child; continue; }
            if (value is null) return;
            var created = new JsonObject();
            node[keys[i]] = created;
            node = created;
        }
        if (value is null) node.Remove(keys[^1]);
        else node[keys[^1]] = value;
    }

    /// <summary>A YAML scalar or flow value as JSON (patronictl yaml.safe_load's the right-hand side).</summary>
    public static JsonNode? ParseValue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Length == 0) return null;
        var parsed = YamlJson.FromYaml("v: " + text) as JsonObject;
        var v = parsed?["v"];
        return v?.DeepClone();
    }

    /// <summary>--apply: a recursive merge; null values delete keys.</summary>
    public static void Merge(JsonObject target, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(patch);
        foreach (var (key, value) in patch)
        {
            if (value is null) target.Remove(key);
            else if (value is JsonObject po && target[key] is JsonObject to) Merge(to, po);
            else target[key] = value.DeepClone();
        }
    }
}
