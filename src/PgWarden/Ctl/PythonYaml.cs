using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PgWarden.Ctl;

/// <summary>
/// YAML the way patronictl prints it (PyYAML safe_dump with sorted keys, no line folding): block style for
/// list -f yaml and pretty Tags cells, flow style for tsv Tags cells. Strings are quoted only when PyYAML would.
/// </summary>
public static partial class PythonYaml
{
    public static string Dump(JsonNode? node, bool flowStyle = false)
    {
        var sb = new StringBuilder();
        if (flowStyle || node is not (JsonObject or JsonArray) || IsEmptyCollection(node))
        {
            WriteFlow(sb, node);
            sb.Append('\n');
        }
        else
        {
            WriteBlock(sb, node, 0);
        }
        return sb.ToString();
    }

    private static bool IsEmptyCollection(JsonNode? n) => n is JsonObject { Count: 0 } or JsonArray { Count: 0 };

    private static IEnumerable<KeyValuePair<string, JsonNode?>> Sorted(JsonObject o) =>
        o.OrderBy(p => p.Key, StringComparer.Ordinal);

    private static void WriteBlock(StringBuilder sb, JsonNode? node, int indent)
    {
        var pad = new string(' ', indent);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in Sorted(obj))
                {
                    sb.Append(pad).Append(Scalar(key, flow: false)).Append(':');
                    WriteBlockValue(sb, value, indent, inMapping: true);
                }
                break;
            case JsonArray arr:
                foreach (var item in arr)
                {
                    sb.Append(pad).Append('-');
                    WriteBlockValue(sb, item, indent, inMapping: false);
                }
                break;
        }
    }

    /// <summary>After "key:" or "-": a scalar on the same line, or the nested collection below/beside it.</summary>
    private static void WriteBlockValue(StringBuilder sb, JsonNode? value, int indent, bool inMapping)
    {
        if (value is JsonObject { Count: > 0 } o)
        {
            if (inMapping)
            {
                sb.Append('\n');
                WriteBlock(sb, o, indent + 2);
            }
            else
            {
                // "- first: 1\n  second: 2": the first key sits on the dash line.
                var nested = new StringBuilder();
                WriteBlock(nested, o, indent + 2);
                sb.Append(' ').Append(nested.ToString(indent + 2, nested.Length - indent - 2));
            }
        }
        else if (value is JsonArray { Count: > 0 } a)
        {
            if (inMapping)
            {
                // PyYAML does not indent a sequence inside a mapping.
                sb.Append('\n');
                WriteBlock(sb, a, indent);
            }
            else
            {
                var nested = new StringBuilder();
                WriteBlock(nested, a, indent + 2);
                sb.Append(' ').Append(nested.ToString(indent + 2, nested.Length - indent - 2));
            }
        }
        else
        {
            sb.Append(' ');
            WriteFlow(sb, value);
            sb.Append('\n');
        }
    }

    private static void WriteFlow(StringBuilder sb, JsonNode? node, bool insideFlow = false)
    {
        switch (node)
        {
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in Sorted(obj))
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(Scalar(key, flow: true)).Append(": ");
                    WriteFlow(sb, value, insideFlow: true);
                }
                sb.Append('}');
                break;
            case JsonArray arr:
                sb.Append('[');
                for (var i = 0; i < arr.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WriteFlow(sb, arr[i], insideFlow: true);
                }
                sb.Append(']');
                break;
            case null:
                sb.Append("null");
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: sb.Append(Scalar(v.GetValue<string>(), flow: insideFlow)); break;
                    case JsonValueKind.True: sb.Append("true"); break;
                    case JsonValueKind.False: sb.Append("false"); break;
                    case JsonValueKind.Null: sb.Append("null"); break;
                    default:
                        sb.Append(v.TryGetValue<long>(out var l) ? l.ToString(CultureInfo.InvariantCulture)
                            : v.TryGetValue<double>(out var d) ? Api.PythonFormat.FloatRepr(d) : v.ToJsonString());
                        break;
                }
                break;
        }
    }

    /// <summary>A string scalar, plain when PyYAML would write it plain, else single- or double-quoted.</summary>
    public static string Scalar(string s, bool flow)
    {
        if (NeedsDoubleQuotes(s)) return DoubleQuoted(s);
        return CanBePlain(s, flow) ? s : "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static bool NeedsDoubleQuotes(string s) =>
        s.Any(c => c is '\n' or '\r' or '\t' || char.IsControl(c));

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    private static bool CanBePlain(string s, bool flow)
    {
        if (s.Length == 0 || s[0] == ' ' || s[^1] == ' ') return false;
        if ("#,[]{}&*!|>'\"%@`".Contains(s[0], StringComparison.Ordinal)) return false;
        var followedBySpace = s.Length == 1 || s[1] == ' ';
        if (s[0] is '-' && followedBySpace) return false;
        if (s[0] is '?' or ':' && (flow || followedBySpace)) return false;
        for (var i = 1; i < s.Length; i++)
        {
            var c = s[i];
            if (flow && c is ',' or '?' or '[' or ']' or '{' or '}') return false;
            if (c == ':' && (flow || i + 1 == s.Length || s[i + 1] == ' ')) return false;
            if (c == '#' && s[i - 1] == ' ') return false;
        }
        return !ResolvesToNonString().IsMatch(s);
    }

    /// <summary>PyYAML's implicit resolvers (bool, int, float, null, timestamp, merge, value).</summary>
    [GeneratedRegex(
        @"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
        + @"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
        + @"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        + @"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        + @"|~|null|Null|NULL|"
        + @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        + @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"
        + @"|<<|=)$")]
    private static partial Regex ResolvesToNonString();
}
