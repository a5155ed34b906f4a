using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>
/// Reads Patroni's local configuration: a YAML file, a directory of *.yml/*.yaml files merged in sorted order, the
/// whole YAML in PATRONI_CONFIGURATION, or the PATRONI_* variables alone; PATRONI_* variables override the file.
/// Unknown keys are warnings (Patroni ignores them); missing or malformed required values throw ConfigException.
/// </summary>
public static class ConfigLoader
{
    public const string ConfigurationVariable = "PATRONI_CONFIGURATION";

    public static AgentConfig Load(string? path, IReadOnlyDictionary<string, string?> environment, ICollection<string> warnings)
    {
        var fromEnvironment = EnvironmentConfiguration.Build(environment);
        YamlMappingNode root;
        if (path is not null)
        {
            root = LoadPath(path);
            YamlMerge.Patch(root, fromEnvironment);
        }
        else if (environment.TryGetValue(ConfigurationVariable, out var whole) && !string.IsNullOrWhiteSpace(whole))
        {
            // As in Patroni, the whole YAML in PATRONI_CONFIGURATION is used alone: other PATRONI_* are not applied.
            root = AsRoot(YamlJson.ParseDocument(whole, ConfigurationVariable), ConfigurationVariable);
        }
        else
        {
            root = fromEnvironment;
        }
        if (root.Children.Count == 0)
            throw new ConfigException("", "the configuration is empty: give a YAML file, PATRONI_CONFIGURATION or PATRONI_* variables");
        return AgentConfigReader.Read(new YamlSection(root, "", warnings), path);
    }

    private static YamlMappingNode LoadPath(string path)
    {
        if (File.Exists(path)) return AsRoot(ParseFile(path), path);
        if (!Directory.Exists(path))
            throw new ConfigException("", $"configuration path '{path}' is neither a file nor a directory");
        var merged = new YamlMappingNode();
        var files = Directory.EnumerateFiles(path)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var node = ParseFile(file);
            if (node is null) continue;
            YamlMerge.Patch(merged, AsRoot(node, file));
        }
        return merged;
    }

    private static YamlNode? ParseFile(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("", $"cannot read configuration file '{file}': {e.Message}");
        }
        return YamlJson.ParseDocument(text, file);
    }

    private static YamlMappingNode AsRoot(YamlNode? node, string source) => node switch
    {
        null => new YamlMappingNode(),
        YamlMappingNode map => map,
        _ => throw new ConfigException("", $"{source}: the configuration must be a mapping of keys to values"),
    };
}
