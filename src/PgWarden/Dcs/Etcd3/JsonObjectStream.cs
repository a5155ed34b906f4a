using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgWarden.Dcs.Etcd3;

/// <summary>
/// Splits a byte stream of concatenated JSON objects (etcd's watch and keepalive responses) into objects,
/// whatever the chunk boundaries are: it tracks brace depth outside strings and cuts at each closing brace
/// that returns to depth 0. Whitespace between objects is skipped.
/// </summary>
public sealed class JsonObjectSplitter
{
    private readonly MemoryStream current = new();
    private int depth;
    private bool inString;
    private bool escaped;

    /// <summary>Feeds bytes; returns the objects completed by them, in order.</summary>
    public List<JsonNode> Feed(ReadOnlySpan<byte> bytes)
    {
        var done = new List<JsonNode>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (depth == 0)
            {
                if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    start = i + 1;
                    continue;
                }
                if (b != (byte)'{')
                    throw new DcsException(DcsErrorKind.Protocol, $"etcd stream: expected '{{' between objects, got '{(char)b}'");
                start = i;
                depth = 1;
                continue;
            }
            if (inString)
            {
                if (escaped) escaped = false;
                else if (b == (byte)'\\') escaped = true;
                else if (b == (byte)'"') inString = false;
                continue;
            }
            switch (b)
            {
                case (byte)'"': inString = true; break;
                case (byte)'{' or (byte)'[': depth++; break;
                case (byte)'}' or (byte)']':
                    depth--;
                    if (depth == 0)
                    {
                        current.Write(bytes[start..(i + 1)]);
                        done.Add(ParseCurrent());
                        start = i + 1;
                    }
                    break;
            }
        }
        if (depth > 0 && start < bytes.Length) current.Write(bytes[start..]);
        return done;
    }

    private JsonNode ParseCurrent()
    {
        try
        {
            return JsonNode.Parse(current.GetBuffer().AsSpan(0, (int)current.Length))
                   ?? throw new DcsException(DcsErrorKind.Protocol, "etcd stream: null object");
        }
        catch (JsonException e)
        {
            throw new DcsException(DcsErrorKind.Protocol, $"etcd stream: unparsable object: {e.Message}", e);
        }
        finally
        {
            current.SetLength(0);
        }
    }

    /// <summary>Reads objects from a stream until it ends.</summary>
    public static async IAsyncEnumerable<JsonNode> ReadAllAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        var splitter = new JsonObjectSplitter();
        var buffer = new byte[16384];
        while (true)
        {
            var n = await stream.ReadAsync(buffer, ct);
            if (n == 0) yield break;
            foreach (var o in splitter.Feed(buffer.AsSpan(0, n))) yield return o;
        }
    }
}
