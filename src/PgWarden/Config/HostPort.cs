using System.Globalization;

namespace PgWarden.Config;

/// <summary>host:port values as Patroni writes them: split at the last colon; IPv6 hosts in [brackets].</summary>
public static class HostPort
{
    /// <summary>Splits "host:port" (host may be "[::1]", "*", or for postgresql.listen a comma list).</summary>
    public static bool TryParse(string? value, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(value)) return false;
        var cut = value.LastIndexOf(':');
        if (cut <= 0 || cut == value.Length - 1) return false;
        host = value[..cut].Trim();
        if (host.Length == 0 || host.EndsWith(',')) return false;
        return int.TryParse(value[(cut + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    /// <summary>Null when value is host:port with a port in 1..65535; otherwise the message naming key and value.</summary>
    public static string? Check(string key, string? value)
    {
        if (!TryParse(value, out _, out var port)) return $"{key}: '{value}' is not host:port";
        if (port is < 1 or > 65535) return $"{key}: '{value}' has port {port}, expected 1..65535";
        return null;
    }

    /// <summary>"h" -> "h:2379"; "h:p" unchanged; a bare IPv6 address is bracketed.</summary>
    public static string WithDefaultPort(string hostOrHostPort, int defaultPort)
    {
        var s = hostOrHostPort.Trim();
        if (s.StartsWith('[')) return s.Contains("]:", StringComparison.Ordinal) ? s : s + ":" + defaultPort.ToString(CultureInfo.InvariantCulture);
        var colons = s.Count(c => c == ':');
        if (colons == 1) return s;
        if (colons > 1) return "[" + s + "]:" + defaultPort.ToString(CultureInfo.InvariantCulture);
        return s + ":" + defaultPort.ToString(CultureInfo.InvariantCulture);
    }
}
