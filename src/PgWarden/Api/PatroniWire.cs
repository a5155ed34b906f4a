namespace PgWarden.Api;

/// <summary>The Patroni release PgWarden answers as on the wire (REST patroni.version, /metrics patroni_version).</summary>
public static class PatroniWire
{
    public const string Version = "3.0.2";
}
