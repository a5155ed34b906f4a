using System.Globalization;

namespace PgWarden.Postgres;

/// <summary>Parses pg_wal/&lt;TLI&gt;.history files: "parentTLI	switchpoint	reason" lines.</summary>
public static class TimelineHistory
{
    public static string FileName(int timeline) =>
        string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}.history");

    public static IReadOnlyList<(int Timeline, long SwitchLsn, string Reason)> Parse(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var result = new List<(int, long, string)>();
        foreach (var raw in content.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split('\t', 3);
            if (parts.Length < 2) parts = line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2
                || !int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var tli)
                || !Lsn.TryParse(parts[1].Trim(), out var lsn))
            {
                continue; // PostgreSQL itself ignores what it cannot parse in a history file's comments.
            }
            result.Add((tli, lsn, parts.Length > 2 ? parts[2].Trim() : ""));
        }
        return result;
    }
}
