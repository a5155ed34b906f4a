using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PgWarden.Dcs.Etcd3;

/// <summary>
/// The encoding rules of etcd's JSON gateway: keys and values are base64, int64 fields travel as JSON strings,
/// and fields holding their default value (0, false, "") are left out of responses.
/// </summary>
public static class Etcd3Json
{
    public static string ToBase64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string FromBase64(string? base64) =>
        string.IsNullOrEmpty(base64) ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(base64));

    /// <summary>
    /// The range_end that selects every key starting with prefix: the prefix with its last byte incremented
    /// (dropping trailing 0xff bytes first, as etcd's clientv3 does). "/service/batman/" → "/service/batman0".
    /// </summary>
    public static byte[] PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        // Every byte is 0xff: "\0" means "to the end of the key space".
        return [0];
    }

    public static string PrefixEndBase64(string prefix) => Convert.ToBase64String(PrefixEnd(Encoding.UTF8.GetBytes(prefix)));

    /// <summary>An int64 field: absent means 0; the gateway sends a string, a number is accepted too.</summary>
    public static long ReadInt64(JsonNode? node)
    {
        if (node is not JsonValue v) return 0;
        if (v.TryGetValue<string>(out var s))
        {
            return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new DcsException(DcsErrorKind.Protocol, $"etcd sent \"{s}\" where an int64 was expected");
        }
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<double>(out var d)) return (long)d;
        throw new DcsException(DcsErrorKind.Protocol, $"etcd sent {v.ToJsonString()} where an int64 was expected");
    }

    /// <summary>A uint64 field (cluster and member IDs exceed the int64 range).</summary>
    public static ulong ReadUInt64(JsonNode? node)
    {
        if (node is not JsonValue v) return 0;
        if (v.TryGetValue<string>(out var s))
        {
            return ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new DcsException(DcsErrorKind.Protocol, $"etcd sent \"{s}\" where a uint64 was expected");
        }
        return v.TryGetValue<ulong>(out var u) ? u : 0;
    }

    /// <summary>Like <see cref="ReadInt64"/>, but tells an absent field (null) from an explicit 0.</summary>
    public static long? ReadOptionalInt64(JsonNode? node) => node is null ? null : ReadInt64(node);

    public static bool ReadBool(JsonNode? node) =>
        node is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var s) && s == "true");

    public static string Int64String(long value) => value.ToString(CultureInfo.InvariantCulture);
}
