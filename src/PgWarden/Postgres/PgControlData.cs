using System.Globalization;

namespace PgWarden.Postgres;

/// <summary>Parses the `pg_controldata` text output (run with LC_ALL=C so the labels are English).</summary>
public static class PgControlData
{
    /// <summary>Every "label: value" line, label as printed.</summary>
    public static IReadOnlyDictionary<string, string> ParseLines(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            result[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return result;
    }

    public static DataDirectoryInfo ToDataDirectoryInfo(string output, bool standbySignal)
    {
        var lines = ParseLines(output);
        return new DataDirectoryInfo
        {
            HasData = true,
            SystemIdentifier = lines.GetValueOrDefault("Database system identifier"),
            ClusterState = lines.GetValueOrDefault("Database cluster state"),
            TimelineId = lines.TryGetValue("Latest checkpoint's TimeLineID", out var tli)
                && int.TryParse(tli, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null,
            CheckpointLsn = lines.TryGetValue("Latest checkpoint location", out var lsn) && Lsn.TryParse(lsn, out var l) ? l : null,
            IsStandbyConfigured = standbySignal,
            Settings = lines
                .Where(kv => kv.Key.EndsWith(" setting", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[..^" setting".Length], kv => kv.Value, StringComparer.Ordinal),
        };
    }
}
