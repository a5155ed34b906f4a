using System.Text;

namespace PgWarden.Postgres;

/// <summary>libpq keyword=value connection strings (the form primary_conninfo and --dbname take).</summary>
public static class LibpqConnInfo
{
    /// <summary>
    /// Quotes a value per libpq rules: single quotes when it is empty or holds whitespace, a quote or a
    /// backslash; quotes and backslashes inside are escaped with a backslash.
    /// </summary>
    public static string QuoteValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var needsQuotes = value.Length == 0;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || c is '\'' or '\\') { needsQuotes = true; break; }
        }
        if (!needsQuotes) return value;
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            if (c is '\'' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }

    /// <summary>Renders the pairs in the given order, skipping null values.</summary>
    public static string Render(IEnumerable<KeyValuePair<string, string?>> pairs) =>
        string.Join(' ', pairs.Where(p => p.Value is not null).Select(p => $"{p.Key}={QuoteValue(p.Value!)}"));
}
