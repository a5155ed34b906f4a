using System.Globalization;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>postgresql.listen ("host[,host2...]:port"): the listen_addresses and port PgWarden enforces.</summary>
public sealed record ListenAddress(IReadOnlyList<string> Hosts, int Port)
{
    public const int DefaultPort = 5432;

    public string ListenAddresses => string.Join(',', Hosts);

    /// <summary>Where local connections go: the first host, with wildcards mapped to loopback.</summary>
    public string LocalHost => Hosts.Count == 0 ? "127.0.0.1" : Hosts[0] switch
    {
        "*" or "0.0.0.0" or "" => "127.0.0.1",
        "::" => "::1",
        var h => h.Trim('[', ']'),
    };

    public static ListenAddress Parse(string listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var text = listen.Trim();
        // Like Patroni's split_host_port: the last ':' separates the port unless a ']' follows it.
        var colon = text.LastIndexOf(':');
        var port = DefaultPort;
        var hostPart = text;
        if (colon >= 0 && colon > text.LastIndexOf(']'))
        {
            if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                throw new ConfigException("postgresql.listen", $"postgresql.listen '{listen}' has a bad port; expected host[,host2...]:port with port 1-65535.");
            hostPart = text[..colon];
        }
        var hosts = hostPart.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (hosts.Length == 0)
            throw new ConfigException("postgresql.listen", $"postgresql.listen '{listen}' names no host; expected host[,host2...]:port.");
        return new ListenAddress(hosts, port);
    }
}
