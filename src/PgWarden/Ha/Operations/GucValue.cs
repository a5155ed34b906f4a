using System.Globalization;

namespace PgWarden.Ha.Operations;

/// <summary>
/// Compares a configured GUC value ("128MB", "on", "200") with what pg_settings reports (setting, unit, vartype),
/// the way PostgreSQL would read it: memory and time with units, booleans in all their spellings, lists without
/// blanks and quotes. Used to tell which postmaster parameters wait for a restart (compat §3.7).
/// </summary>
public static class GucValue
{
    public static bool Same(string configured, string setting, string? unit, string vartype)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(setting);
        switch (vartype)
        {
            case "bool":
                return Bool(configured) is { } a && Bool(setting) is { } b ? a == b : Norm(configured) == Norm(setting);
            case "integer":
            case "real":
                if (ToBase(configured, unit) is { } c && double.TryParse(setting, NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
                    return Math.Abs(c - s) < 1e-9 * Math.Max(1, Math.Abs(s)) || (vartype == "integer" && Math.Abs(Math.Round(c) - s) < 0.5);
                return Norm(configured) == Norm(setting);
            default:
                return Norm(configured) == Norm(setting);
        }
    }

    /// <summary>A pg_settings value in human form: 16384 with unit 8kB is "128MB"; 60 with unit s is "1min".</summary>
    public static string Display(string setting, string? unit)
    {
        if (unit is null || !double.TryParse(setting, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return setting;
        if (UnitFactor(unit) is not { } u) return setting + unit;
        var baseValue = v * u.Factor;
        var units = u.Memory ? MemoryUnits : TimeUnits;
        for (var i = units.Length - 1; i >= 0; i--)
        {
            var (name, factor) = units[i];
            if (baseValue >= factor && Math.Abs(baseValue % factor) < 1e-9)
                return (baseValue / factor).ToString(CultureInfo.InvariantCulture) + name;
        }
        return setting + unit;
    }

    private static readonly (string, double)[] MemoryUnits = [("B", 1), ("kB", 1024), ("MB", 1024 * 1024), ("GB", 1024d * 1024 * 1024), ("TB", 1024d * 1024 * 1024 * 1024)];
    private static readonly (string, double)[] TimeUnits = [("us", 0.001), ("ms", 1), ("s", 1000), ("min", 60000), ("h", 3600000), ("d", 86400000)];

    /// <summary>The configured value in pg_settings' unit; null when it cannot be read as a number.</summary>
    private static double? ToBase(string configured, string? unit)
    {
        var text = configured.Trim().Trim('\'');
        var i = 0;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] is '.' or '-' or '+' or 'e' && i > 0 && char.IsAsciiDigit(text[i - 1]))) i++;
        if (i == 0 || !double.TryParse(text[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return null;
        var suffix = text[i..].Trim();
        if (suffix.Length == 0) return number;
        if (unit is null || UnitFactor(unit) is not { } target || UnitFactor(suffix) is not { } given || given.Memory != target.Memory) return null;
        return number * given.Factor / target.Factor;
    }

    /// <summary>A unit (possibly with a multiplier, like "8kB" or "16MB") as bytes or milliseconds.</summary>
    private static (double Factor, bool Memory)? UnitFactor(string unit)
    {
        var i = 0;
        while (i < unit.Length && char.IsAsciiDigit(unit[i])) i++;
        var multiplier = i == 0 ? 1 : double.Parse(unit[..i], CultureInfo.InvariantCulture);
        var name = unit[i..];
        foreach (var (n, f) in MemoryUnits) if (n == name) return (multiplier * f, true);
        foreach (var (n, f) in TimeUnits) if (n == name) return (multiplier * f, false);
        return null;
    }

    private static bool? Bool(string value) => value.Trim().Trim('\'').ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" or "t" or "y" => true,
        "off" or "false" or "no" or "0" or "f" or "n" => false,
        _ => null,
    };

    private static string Norm(string value) =>
        new string(value.Where(c => !char.IsWhiteSpace(c) && c is not ('\'' or '"')).ToArray()).ToLowerInvariant();
}
