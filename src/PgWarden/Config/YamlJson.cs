using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>
/// JSON &lt;-&gt; YAML the way Patroni does it: reading types plain scalars like PyYAML's safe_load (quoted scalars stay
/// strings), writing reproduces patronictl's <c>yaml.safe_dump(default_flow_style=False, allow_unicode=True)</c>
/// output (sorted keys, block style, 'on' quoted) so show-config and edit-config diffs look like Patroni's.
/// </summary>
public static class YamlJson
{
    /// <summary>Parses one YAML document into JSON (null for an empty document or a null root).</summary>
    public static JsonNode? FromYaml(string yaml)
    {
        var root = ParseDocument(yaml, "YAML");
        return root is null ? null : ToJson(root);
    }

    /// <summary>The root node of the first document, with &lt;&lt; merge keys applied; null when empty.</summary>
    internal static YamlNode? ParseDocument(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException("", $"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {InnermostMessage(e)}");
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigException("", $"{source}: invalid YAML: {e.Message}");
        }
        catch (ArgumentException e)
        {
            // YamlDotNet reports a duplicate mapping key as an ArgumentException from the dictionary.
            throw new ConfigException("", $"{source}: invalid YAML: {e.Message}");
        }
        if (stream.Documents.Count == 0) return null;
        var root = stream.Documents[0].RootNode;
        ApplyMergeKeys(root, new HashSet<YamlNode>(ReferenceEqualityComparer.Instance));
        return root;
    }

    /// <summary>
    /// YAML 1.1 merge keys as PyYAML applies them: "&lt;&lt;: *base" (or a list of aliases) adds the keys the
    /// mapping does not set itself. Done here rather than with YamlDotNet's MergingParser, which turns an
    /// overridden key into a duplicate-key error.
    /// </summary>
    private static void ApplyMergeKeys(YamlNode node, HashSet<YamlNode> visited)
    {
        if (!visited.Add(node)) return;
        if (node is YamlSequenceNode seq)
        {
            foreach (var child in seq.Children) ApplyMergeKeys(child, visited);
            return;
        }
        if (node is not YamlMappingNode map) return;
        foreach (var child in map.Children.Values) ApplyMergeKeys(child, visited);
        var mergeKey = new YamlScalarNode("<<");
        if (!map.Children.TryGetValue(mergeKey, out var merged) || merged is YamlScalarNode { Style: not (ScalarStyle.Plain or ScalarStyle.Any) })
            return;
        map.Children.Remove(mergeKey);
        var sources = merged switch
        {
            YamlMappingNode one => [one],
            YamlSequenceNode many => many.Children.OfType<YamlMappingNode>().ToList(),
            _ => new List<YamlMappingNode>(),
        };
        foreach (var source in sources)
            foreach (var (k, v) in source.Children)
                if (!map.Children.ContainsKey(k)) map.Children.Add(k, v);
    }

    private static string InnermostMessage(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    /// <summary>JSON for a YAML node: plain scalars typed as PyYAML types them, quoted/block scalars strings.</summary>
    internal static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (k, v) in map.Children) o[KeyText(k)] = ToJson(v);
                return o;
            case YamlSequenceNode seq:
                var a = new JsonArray();
                foreach (var item in seq.Children) a.Add(ToJson(item));
                return a;
            case YamlScalarNode scalar:
                return ScalarToJson(scalar);
            default:
                return null;
        }
    }

    internal static string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? "" : key.ToString();

    /// <summary>True for a scalar written without quotes and without an explicit tag (so PyYAML would type it).</summary>
    internal static bool IsPlain(YamlScalarNode scalar) => scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Tag.IsEmpty;

    internal static JsonNode? ScalarToJson(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific)
        {
            var tag = scalar.Tag.Value;
            if (tag.EndsWith(":str", StringComparison.Ordinal)) return JsonValue.Create(text);
            if (tag.EndsWith(":null", StringComparison.Ordinal)) return null;
            if (tag.EndsWith(":bool", StringComparison.Ordinal) && YamlScalars.IsBool(text)) return JsonValue.Create(YamlScalars.ParseBool(text));
            if ((tag.EndsWith(":int", StringComparison.Ordinal) && YamlScalars.IsInt(text))
                || (tag.EndsWith(":float", StringComparison.Ordinal) && YamlScalars.IsFloat(text)))
                return YamlScalars.PlainToJson(text);
            return JsonValue.Create(text);
        }
        return IsPlain(scalar) ? YamlScalars.PlainToJson(text) : JsonValue.Create(text);
    }

    /// <summary>YAML text in patronictl's show-config style; ends with a newline.</summary>
    public static string ToYaml(JsonNode? node)
    {
        var w = new YamlWriter();
        w.Root(node);
        return w.ToString();
    }

    private sealed class YamlWriter
    {
        private readonly StringBuilder _sb = new();

        public override string ToString() => _sb.ToString();

        public void Root(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o when o.Count > 0:
                    MappingEntries(o, 0, firstInline: true);
                    break;
                case JsonArray a when a.Count > 0:
                    SequenceItems(a, 0, firstInline: true);
                    break;
                default:
                    var (text, plain) = Inline(node, 0, simpleKey: false);
                    _sb.Append(text).Append('\n');
                    // PyYAML marks the end of a document whose root is a plain scalar.
                    if (plain && node is not JsonObject and not JsonArray) _sb.Append("...\n");
                    break;
            }
        }

        private void MappingEntries(JsonObject o, int indent, bool firstInline)
        {
            var first = true;
            foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (!first || !firstInline) _sb.Append(' ', indent);
                first = false;
                _sb.Append(ScalarText(key, indent, simpleKey: true).Text).Append(':');
                switch (value)
                {
                    case JsonObject child when child.Count > 0:
                        _sb.Append('\n');
                        MappingEntries(child, indent + 2, firstInline: false);
                        break;
                    case JsonArray items when items.Count > 0:
                        // PyYAML writes a sequence under a mapping key without extra indentation.
                        _sb.Append('\n');
                        SequenceItems(items, indent, firstInline: false);
                        break;
                    default:
                        _sb.Append(' ').Append(Inline(value, indent + 2, simpleKey: false).Text).Append('\n');
                        break;
                }
            }
        }

        private void SequenceItems(JsonArray a, int indent, bool firstInline)
        {
            var first = true;
            foreach (var item in a)
            {
                if (!first || !firstInline) _sb.Append(' ', indent);
                first = false;
                _sb.Append("- ");
                switch (item)
                {
                    case JsonObject child when child.Count > 0:
                        MappingEntries(child, indent + 2, firstInline: true);
                        break;
                    case JsonArray items when items.Count > 0:
                        SequenceItems(items, indent + 2, firstInline: true);
                        break;
                    default:
                        _sb.Append(Inline(item, indent + 2, simpleKey: false).Text).Append('\n');
                        break;
                }
            }
        }

        private static (string Text, bool Plain) Inline(JsonNode? node, int indent, bool simpleKey)
        {
            switch (node)
            {
                case null: return ("null", true);
                case JsonObject: return ("{}", false);
                case JsonArray: return ("[]", false);
            }
            var value = (JsonValue)node;
            switch (value.GetValueKind())
            {
                case JsonValueKind.True: return ("true", true);
                case JsonValueKind.False: return ("false", true);
                case JsonValueKind.Null: return ("null", true);
                case JsonValueKind.Number: return (NumberText(value), true);
                default: return ScalarText(value.GetValue<string>(), indent, simpleKey);
            }
        }

        private static string NumberText(JsonValue value)
        {
            var raw = value.ToJsonString();
            if (raw.IndexOfAny(['.', 'e', 'E']) < 0) return raw;
            return PythonFloatRepr(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        private static (string Text, bool Plain) ScalarText(string s, int indent, bool simpleKey)
        {
            var a = ScalarAnalysis.Of(s);
            var implicitPlain = !YamlScalars.ResolvesToNonString(s);
            if (implicitPlain && !(simpleKey && (a.Empty || a.Multiline)) && a.AllowBlockPlain) return (s, true);
            if (a.AllowSingleQuoted && !(simpleKey && a.Multiline)) return (SingleQuoted(s, indent), false);
            return (DoubleQuoted(s), false);
        }

        private static string SingleQuoted(string s, int indent)
        {
            var sb = new StringBuilder("'");
            var i = 0;
            while (i < s.Length)
            {
                var c = s[i];
                if (c == '\n')
                {
                    // A run of n line breaks is written as n+1 breaks (a single one would fold into a space).
                    var start = i;
                    while (i < s.Length && s[i] == '\n') i++;
                    sb.Append('\n');
                    for (var k = start; k < i; k++) sb.Append('\n');
                    sb.Append(' ', indent);
                    continue;
                }
                sb.Append(c == '\'' ? "''" : c.ToString());
                i++;
            }
            return sb.Append('\'').ToString();
        }

        private static string DoubleQuoted(string s)
        {
            var sb = new StringBuilder("\"");
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                var printable = (c >= '\x20' && c <= '\x7E') || (c >= '\xA0' && c <= '\uFFFD' && c != '\uFEFF')
                                || char.IsSurrogate(c);
                if (printable && c is not '"' and not '\\' and not '\u2028' and not '\u2029')
                {
                    sb.Append(c);
                    continue;
                }
                sb.Append(c switch
                {
                    '\0' => "\\0", '\a' => "\\a", '\b' => "\\b", '\t' => "\\t", '\n' => "\\n", '\v' => "\\v",
                    '\f' => "\\f", '\r' => "\\r", '\x1B' => "\\e", '"' => "\\\"", '\\' => "\\\\", '\x85' => "\\N",
                    '\u2028' => "\\L", '\u2029' => "\\P",
                    _ => c <= '\xFF' ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}",
                });
            }
            return sb.Append('"').ToString();
        }
    }

    /// <summary>Python's repr(float) plus PyYAML's ".0" before the exponent (1e+16 -> 1.0e+16).</summary>
    internal static string PythonFloatRepr(double d)
    {
        if (double.IsNaN(d)) return ".nan";
        if (double.IsPositiveInfinity(d)) return ".inf";
        if (double.IsNegativeInfinity(d)) return "-.inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest round-trip digits, then place the decimal point the way Python's repr does.
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var (digits, exp10) = Decompose(shortest);
        var decpt = exp10 + digits.Length;
        string body;
        if (decpt > 16 || decpt < -3)
        {
            var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            var e = decpt - 1;
            body = mantissa + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString("00", CultureInfo.InvariantCulture);
            if (!mantissa.Contains('.', StringComparison.Ordinal)) body = body.Replace("e", ".0e", StringComparison.Ordinal);
        }
        else if (decpt <= 0) body = "0." + new string('0', -decpt) + digits;
        else if (decpt >= digits.Length) body = digits + new string('0', decpt - digits.Length) + ".0";
        else body = digits[..decpt] + "." + digits[decpt..];
        return (d < 0 ? "-" : "") + body;
    }

    /// <summary>"1.25E+20" or "0.0125" -> significant digits "125" and the power of ten of the last digit.</summary>
    private static (string Digits, int Exp10) Decompose(string s)
    {
        var exp = 0;
        var ePos = s.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exp = int.Parse(s[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..ePos];
        }
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            exp -= s.Length - dot - 1;
            s = s.Remove(dot, 1);
        }
        s = s.TrimStart('0');
        var trimmed = s.TrimEnd('0');
        exp += s.Length - trimmed.Length;
        return (trimmed.Length == 0 ? "0" : trimmed, exp);
    }
}
