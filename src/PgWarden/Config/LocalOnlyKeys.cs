using System.Text.Json.Nodes;

namespace PgWarden.Config;

/// <summary>
/// The postgresql keys that describe one node and may hold its secrets (compat §3.1: connect_address,
/// proxy_address, listen, config_dir, data_dir, pgpass, authentication). Patroni strips them from the dynamic
/// configuration; PgWarden also never writes them into the DCS config key, so no member's credentials reach the
/// shared store, GET /config or show-config, whether they came from bootstrap.dcs or a PATCH.
/// </summary>
public static class LocalOnlyKeys
{
    public static readonly IReadOnlyList<string> Postgresql =
        ["connect_address", "proxy_address", "listen", "config_dir", "data_dir", "pgpass", "authentication"];

    /// <summary>Removes the local-only postgresql keys in place; returns the dotted names removed.</summary>
    public static IReadOnlyList<string> Strip(JsonObject dynamicConfig)
    {
        ArgumentNullException.ThrowIfNull(dynamicConfig);
        var removed = new List<string>();
        if (dynamicConfig["postgresql"] is JsonObject pg)
        {
            foreach (var key in Postgresql)
            {
                if (pg.Remove(key)) removed.Add("postgresql." + key);
            }
        }
        return removed;
    }
}
