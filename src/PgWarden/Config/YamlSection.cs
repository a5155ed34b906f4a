using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>
/// Typed reads from one mapping of the local configuration. Every read names the full key ("postgresql.listen")
/// in its error, and the keys that were never read are reported as unknown at the end (Patroni ignores them).
/// </summary>
internal sealed class YamlSection
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly ICollection<string> _warnings;

    public YamlSection(YamlMappingNode node, string path, ICollection<string> warnings)
    {
        _node = node;
        Path = path;
        _warnings = warnings;
    }

    public string Path { get; }

    public string KeyOf(string key) => Path.Length == 0 ? key : Path + "." + key;

    public IEnumerable<string> Keys => _node.Children.Keys.Select(YamlJson.KeyText);

    public bool Has(string key) => Get(key, markRead: false) is not null;

    /// <summary>The node for key, or null when absent or an explicit null.</summary>
    public YamlNode? Get(string key, bool markRead = true)
    {
        if (markRead) _read.Add(key);
        if (!_node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return null;
        if (value is YamlScalarNode s && YamlJson.IsPlain(s) && YamlScalars.IsNull(s.Value ?? "")) return null;
        return value;
    }

    public YamlSection? Section(string key)
    {
        var node = Get(key);
        if (node is null) return null;
        if (node is not YamlMappingNode map) throw Expected(key, node, "a mapping of keys to values");
        return new YamlSection(map, KeyOf(key), _warnings);
    }

    public YamlSection RequiredSection(string key) =>
        Section(key) ?? throw new ConfigException(KeyOf(key), $"{KeyOf(key)} is required (a mapping of keys to values)");

    /// <summary>A scalar as written (so password: 0123 stays "0123", not the octal number PyYAML would make of it).</summary>
    public string? String(string key)
    {
        var node = Get(key);
        if (node is null) return null;
        if (node is not YamlScalarNode s) throw Expected(key, node, "a string");
        return s.Value ?? "";
    }

    public string RequiredString(string key)
    {
        var value = String(key);
        if (string.IsNullOrEmpty(value)) throw new ConfigException(KeyOf(key), $"{KeyOf(key)} is required");
        return value;
    }

    public int Int(string key, int defaultValue)
    {
        var text = String(key);
        if (text is null) return defaultValue;
        if (YamlScalars.TryParseInt(text.Trim(), out var value) && value >= int.MinValue && value <= int.MaxValue) return (int)value;
        throw new ConfigException(KeyOf(key), $"{KeyOf(key)}: '{text}' is not an integer");
    }

    public bool Bool(string key, bool defaultValue) => OptionalBool(key) ?? defaultValue;

    public bool? OptionalBool(string key)
    {
        var text = String(key);
        if (text is null) return null;
        return ParseBool(text) ?? throw new ConfigException(KeyOf(key),
            $"{KeyOf(key)}: '{text}' is not a boolean (expected true/false, on/off, yes/no or 1/0)");
    }

    /// <summary>Patroni's parse_bool: on/true/yes/1 and off/false/no/0, any case; anything else is not a boolean.</summary>
    public static bool? ParseBool(string text) => text.Trim().ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" => true,
        "off" or "false" or "no" or "0" => false,
        _ => null,
    };

    public IReadOnlyList<string> StringList(string key)
    {
        var node = Get(key);
        if (node is null) return [];
        if (node is not YamlSequenceNode seq) throw Expected(key, node, "a list of strings");
        var list = new List<string>();
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (seq.Children[i] is not YamlScalarNode s)
                throw Expected($"{key}[{i}]", seq.Children[i], "a string");
            list.Add(s.Value ?? "");
        }
        return list;
    }

    /// <summary>A mapping of scalars, values as written; null values are dropped.</summary>
    public IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var section = Section(key);
        if (section is null) return new Dictionary<string, string>();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in section.Keys.ToList())
            if (section.String(name) is { } value) map[name] = value;
        return map;
    }

    public JsonNode? Json(string key) => Get(key) is { } node ? YamlJson.ToJson(node) : null;

    /// <summary>Keys Patroni knows that PgWarden accepts without acting on them (cosmetic or not applicable).</summary>
    public void Accept(params string[] keys)
    {
        foreach (var k in keys) _read.Add(k);
    }

    /// <summary>Keys Patroni acts on that PgWarden does not implement: warn, so nobody relies on them silently.</summary>
    public void Unsupported(params string[] keys)
    {
        foreach (var k in keys)
        {
            _read.Add(k);
            if (_node.Children.ContainsKey(new YamlScalarNode(k)))
                _warnings.Add($"configuration key '{KeyOf(k)}' is not supported by PgWarden and ignored");
        }
    }

    public void AddWarning(string warning) => _warnings.Add(warning);

    public void WarnUnknown()
    {
        foreach (var key in Keys)
            if (!_read.Contains(key)) _warnings.Add($"unknown configuration key '{KeyOf(key)}' ignored");
    }

    public ConfigException Expected(string key, YamlNode node, string expected) => node switch
    {
        YamlScalarNode s => new ConfigException(KeyOf(key), $"{KeyOf(key)}: '{s.Value}' is not {expected}"),
        YamlSequenceNode => new ConfigException(KeyOf(key), $"{KeyOf(key)}: expected {expected}, got a list"),
        _ => new ConfigException(KeyOf(key), $"{KeyOf(key)}: expected {expected}, got a mapping"),
    };
}
