namespace PgWarden.Config;

/// <summary>A configuration value is missing or invalid. The message names the key, the value and what is expected.</summary>
public sealed class ConfigException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}
