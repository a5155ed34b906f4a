using System.Globalization;
using System.Text.RegularExpressions;

namespace PgWarden.Bench;

/// <summary>Runs `wrk -t2 -c16 -dNs --latency URL` and reads requests/s, the p99 latency and non-2xx answers.</summary>
public static partial class Wrk
{
    public sealed record Result(double RequestsPerSecond, double P99Ms, long Non2xx, string Output);

    public static Result Run(string url, int seconds)
    {
        var (code, output) = PgWarden.Lab.OsUsers.Run(true, "wrk", "-t2", "-c16", $"-d{seconds}s", "--latency", url);
        if (code != 0) throw new InvalidOperationException($"wrk {url} exited {code}: {output}");
        var rps = RequestsPerSec().Match(output);
        var p99 = P99().Match(output);
        if (!rps.Success || !p99.Success) throw new InvalidOperationException($"cannot read wrk's output for {url}: {output}");
        var non2xx = Non2xx().Match(output);
        return new Result(double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), ToMs(p99.Groups[1].Value, p99.Groups[2].Value),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0, output);
    }

    private static double ToMs(string number, string unit)
    {
        var v = double.Parse(number, CultureInfo.InvariantCulture);
        return unit switch { "us" => v / 1000, "ms" => v, "s" => v * 1000, "m" => v * 60000, _ => throw new FormatException($"unknown wrk unit '{unit}'") };
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSec();

    [GeneratedRegex(@"\s99%\s+([0-9.]+)(us|ms|s|m)\b")]
    private static partial Regex P99();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+([0-9]+)")]
    private static partial Regex Non2xx();
}
