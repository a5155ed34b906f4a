using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgWarden.Api;

/// <summary>
/// Serialises JSON the way Python's json.dumps does by default (", " and ": " separators, non-ASCII escaped as
/// \uXXXX, key order kept), because Patroni's REST bodies and patronictl's -f json output look like that and
/// clients, golden files and humans diff them byte for byte.
/// </summary>
public static class PythonJson
{
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder(256);
        Write(sb, node);
        return sb.ToString();
    }

    public static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray arr:
                sb.Append('[');
                for (var i = 0; i < arr.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Write(sb, arr[i]);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.TryGetValue<string>(out var s) ? s : value.ToString());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                WriteNumber(sb, value);
                break;
        }
    }

    private static void WriteNumber(StringBuilder sb, JsonValue value)
    {
        if (value.TryGetValue<long>(out var l)) sb.Append(l.ToString(CultureInfo.InvariantCulture));
        else if (value.TryGetValue<int>(out var i)) sb.Append(i.ToString(CultureInfo.InvariantCulture));
        else if (value.TryGetValue<double>(out var d)) sb.Append(PythonFormat.FloatRepr(d));
        else if (value.TryGetValue<decimal>(out var m)) sb.Append(m.ToString(CultureInfo.InvariantCulture));
        else sb.Append(value.ToJsonString());
    }

    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
