using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PgWarden.Postgres;

/// <summary>Replication slot names as Patroni derives them from member names (compat §5.12).</summary>
public static partial class SlotNames
{
    public const int MaxLength = 63;

    /// <summary>
    /// Lower-case; '-' and '.' become '_'; any other character outside [a-z0-9_] becomes 'u' followed by its
    /// decimal code point zero-padded to 4 digits; the result is cut to 63 characters.
    /// </summary>
    public static string FromMemberName(string memberName)
    {
        ArgumentNullException.ThrowIfNull(memberName);
        var sb = new StringBuilder(memberName.Length);
        foreach (var rune in memberName.ToLowerInvariant().EnumerateRunes())
        {
            var v = rune.Value;
            if (v is >= 'a' and <= 'z' or >= '0' and <= '9' or '_') sb.Append((char)v);
            else if (v is '-' or '.') sb.Append('_');
            else sb.Append('u').Append(v.ToString("D4", CultureInfo.InvariantCulture));
        }
        return sb.Length > MaxLength ? sb.ToString(0, MaxLength) : sb.ToString();
    }

    /// <summary>A name PostgreSQL accepts for a slot and Patroni accepts for a permanent slot.</summary>
    public static bool IsValid(string name) => ValidName().IsMatch(name);

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex ValidName();
}
