using System.Globalization;

namespace PgWarden.Bench;

/// <summary>
/// CPU time (own + reaped children, so helper programs an agent runs count as its cost) and resident memory of a
/// process, from /proc/PID/stat and /proc/PID/status.
/// </summary>
public static class ProcessCost
{
    private static readonly Lazy<double> TicksPerSecond = new(() =>
        double.Parse(PgWarden.Lab.OsUsers.Run("getconf", "CLK_TCK").Trim(), CultureInfo.InvariantCulture));

    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after "comm" (which may contain spaces): state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = new[] { 11, 12, 13, 14 }.Sum(i => double.Parse(f[i], CultureInfo.InvariantCulture));
        return ticks / TicksPerSecond.Value;
    }

    public static double RssMegabytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
