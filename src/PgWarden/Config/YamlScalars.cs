using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PgWarden.Config;

/// <summary>
/// PyYAML's YAML 1.1 implicit resolvers (what Patroni's yaml.safe_load applies to plain scalars), so a value
/// reads the same way in PgWarden as in Patroni: plain on/off/yes/no are booleans, 0755 is octal, 1_000 is 1000.
/// </summary>
internal static partial class YamlScalars
{
    [GeneratedRegex("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex("^(?:~|null|Null|NULL|)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")]
    private static partial Regex TimestampPattern();

    public static bool IsBool(string s) => BoolPattern().IsMatch(s);
    public static bool IsNull(string s) => NullPattern().IsMatch(s);
    public static bool IsInt(string s) => IntPattern().IsMatch(s);
    public static bool IsFloat(string s) => FloatPattern().IsMatch(s);

    /// <summary>True when PyYAML would read this text, written plain, as something other than a string.</summary>
    public static bool ResolvesToNonString(string s) =>
        IsBool(s) || IsNull(s) || IsInt(s) || IsFloat(s) || TimestampPattern().IsMatch(s) || s is "<<" or "=";

    public static bool ParseBool(string s) => s.ToLowerInvariant() is "yes" or "true" or "on";

    /// <summary>The JSON value of a plain scalar, typed as PyYAML types it.</summary>
    public static JsonNode? PlainToJson(string s)
    {
        if (IsNull(s)) return null;
        if (IsBool(s)) return JsonValue.Create(ParseBool(s));
        // Element-backed numbers (parsed from JSON text) convert to any numeric type on GetValue, like the
        // values read from the DCS.
        if (IsInt(s) && TryParseInt(s, out var i)) return JsonNode.Parse(i.ToString(CultureInfo.InvariantCulture));
        if (IsFloat(s) && TryParseFloat(s, out var d) && double.IsFinite(d))
        {
            // Keep a float a float (1.0e+5 stays 100000.0), so writing it back gives PyYAML's form.
            var text = d.ToString("R", CultureInfo.InvariantCulture);
            if (text.IndexOfAny(['.', 'E', 'e']) < 0) text += ".0";
            return JsonNode.Parse(text);
        }
        // .inf/.nan have no JSON form, timestamps stay text: both remain strings.
        return JsonValue.Create(s);
    }

    public static bool TryParseInt(string text, out BigInteger value)
    {
        value = default;
        var s = text.Replace("_", "", StringComparison.Ordinal);
        var sign = BigInteger.One;
        if (s.StartsWith('-')) { sign = BigInteger.MinusOne; s = s[1..]; }
        else if (s.StartsWith('+')) s = s[1..];
        if (s.Length == 0) return false;
        if (s == "0") { value = BigInteger.Zero; return true; }
        if (s.StartsWith("0b", StringComparison.Ordinal)) return ParseBase(s[2..], 2, sign, out value);
        if (s.StartsWith("0x", StringComparison.Ordinal)) return ParseBase(s[2..], 16, sign, out value);
        if (s.StartsWith('0')) return ParseBase(s[1..], 8, sign, out value);
        if (s.Contains(':', StringComparison.Ordinal))
        {
            // Sexagesimal (base 60), e.g. 1:30 is 90: a YAML 1.1 rule PyYAML still applies.
            var result = BigInteger.Zero;
            foreach (var part in s.Split(':'))
            {
                if (!BigInteger.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var digit)) return false;
                result = result * 60 + digit;
            }
            value = sign * result;
            return true;
        }
        if (!BigInteger.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var dec)) return false;
        value = sign * dec;
        return true;
    }

    private static bool ParseBase(string digits, int radix, BigInteger sign, out BigInteger value)
    {
        value = BigInteger.Zero;
        if (digits.Length == 0) return false;
        foreach (var c in digits)
        {
            var d = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => 99,
            };
            if (d >= radix) return false;
            value = value * radix + d;
        }
        value *= sign;
        return true;
    }

    private static bool TryParseFloat(string text, out double value)
    {
        var s = text.Replace("_", "", StringComparison.Ordinal);
        if (s.Contains(':', StringComparison.Ordinal))
        {
            value = double.NaN;
            return false;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
