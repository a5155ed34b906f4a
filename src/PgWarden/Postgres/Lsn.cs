using System.Globalization;

namespace PgWarden.Postgres;

/// <summary>WAL positions: PostgreSQL's "X/Y" text form and the 64-bit integer Patroni publishes.</summary>
public static class Lsn
{
    public static bool TryParse(string text, out long lsn)
    {
        lsn = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0) return false;
        if (!uint.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hi)) return false;
        if (!uint.TryParse(text.AsSpan(slash + 1).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lo)) return false;
        lsn = ((long)hi << 32) | lo;
        return true;
    }

    public static long Parse(string text) =>
        TryParse(text, out var lsn) ? lsn : throw new FormatException($"'{text}' is not an LSN; expected hex 'X/Y' such as '0/3000148'.");

    public static string Format(long lsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{(uint)(lsn >> 32):X}/{(uint)lsn:X}");
}
