using System.Text;

namespace PgWarden.Postgres;

/// <summary>The pgpass file that carries passwords to libpq tools and to the WAL receiver.</summary>
public static class PgPassFile
{
    /// <summary>One `*:*:*:user:password` line per user that has a password, in order, without duplicates.</summary>
    public static string Render(IEnumerable<(string User, string? Password)> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        var sb = new StringBuilder();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (user, password) in users)
        {
            if (password is null) continue;
            var line = $"*:*:*:{Escape(user)}:{Escape(password)}";
            if (seen.Add(line)) sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>':' and '\' are the pgpass separators; libpq expects them escaped with a backslash.</summary>
    public static string Escape(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
    }
}
