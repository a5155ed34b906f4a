using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>Patroni's patch_config: mappings merge recursively, anything else replaces, an explicit null deletes.</summary>
internal static class YamlMerge
{
    public static void Patch(YamlMappingNode target, YamlMappingNode overlay)
    {
        foreach (var (key, value) in overlay.Children)
        {
            if (value is YamlScalarNode s && YamlJson.IsPlain(s) && YamlScalars.IsNull(s.Value ?? ""))
            {
                target.Children.Remove(key);
                continue;
            }
            if (value is YamlMappingNode map && target.Children.TryGetValue(key, out var existing) && existing is YamlMappingNode existingMap)
            {
                Patch(existingMap, map);
                continue;
            }
            target.Children[key] = value;
        }
    }
}
