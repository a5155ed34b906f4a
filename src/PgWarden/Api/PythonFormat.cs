using System.Globalization;

namespace PgWarden.Api;

/// <summary>How Python prints the values Patroni puts on the wire (str(datetime), isoformat(), repr(float)).</summary>
public static class PythonFormat
{
    /// <summary>str(datetime): "2026-11-22 03:43:58.443679+00:00"; the fraction is left out when it is zero.</summary>
    public static string DateTime(DateTimeOffset t) => Format(t, ' ');

    /// <summary>datetime.isoformat(): "2026-11-22T03:44:28.544242+00:00".</summary>
    public static string IsoFormat(DateTimeOffset t) => Format(t, 'T');

    private static string Format(DateTimeOffset t, char separator)
    {
        var micros = (t.Ticks % TimeSpan.TicksPerSecond) / 10;
        var head = t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + separator
            + t.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = micros == 0 ? "" : "." + micros.ToString("D6", CultureInfo.InvariantCulture);
        var offset = t.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return head + fraction + sign + abs.Hours.ToString("D2", CultureInfo.InvariantCulture) + ":"
            + abs.Minutes.ToString("D2", CultureInfo.InvariantCulture);
    }

    /// <summary>repr(float): the shortest round-trip digits, always with a fractional part ("1.0").</summary>
    public static string FloatRepr(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E', StringComparison.Ordinal))
        {
            // Python switches to exponent notation only beyond 1e16 / below 1e-4: write plain digits otherwise.
            var abs = Math.Abs(d);
            if (abs is >= 1e-4 and < 1e16) s = d.ToString("0.#################", CultureInfo.InvariantCulture);
            else return s.Replace("E", "e", StringComparison.Ordinal);
        }
        return s.Contains('.', StringComparison.Ordinal) || s.Contains("Infinity", StringComparison.Ordinal) || s == "NaN" ? s : s + ".0";
    }

    /// <summary>Seconds since the epoch as Python's (t - epoch).total_seconds() prints them.</summary>
    public static string EpochSeconds(DateTimeOffset t)
    {
        var ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var micros = ticks / 10;
        return FloatRepr(micros / 1_000_000d);
    }
}
