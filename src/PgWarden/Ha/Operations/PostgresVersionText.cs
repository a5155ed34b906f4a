using System.Globalization;

namespace PgWarden.Ha.Operations;

/// <summary>Patroni's postgres_version_to_int: "X.Y" or "X.Y.Z" to server_version_num.</summary>
public static class PostgresVersionText
{
    public static bool TryParse(string text, out int versionNum, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        versionNum = 0;
        error = $"Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: {text}";
        var parts = text.Split('.');
        if (parts.Length is < 2 or > 3) return false;
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                error = $"Invalid PostgreSQL version: {text}";
                return false;
            }
        }
        // 10+ is X.Y (major.minor); before 10, X.Y.Z (major is X.Y).
        versionNum = numbers[0] >= 10 ? numbers[0] * 10000 + numbers[1]
            : numbers[0] * 10000 + numbers[1] * 100 + (numbers.Length == 3 ? numbers[2] : 0);
        return true;
    }
}
