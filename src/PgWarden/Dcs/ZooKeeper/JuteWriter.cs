using System.Buffers.Binary;
using System.Text;

namespace PgWarden.Dcs.ZooKeeper;

/// <summary>
/// Jute, ZooKeeper's record encoding: big-endian int/long, one byte per bool, buffers and strings as an int
/// length followed by the bytes (-1 for null), vectors as an int count followed by the items.
/// </summary>
public sealed class JuteWriter
{
    private readonly MemoryStream buffer = new();

    public JuteWriter WriteInt(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        buffer.Write(b);
        return this;
    }

    public JuteWriter WriteLong(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, value);
        buffer.Write(b);
        return this;
    }

    public JuteWriter WriteBool(bool value)
    {
        buffer.WriteByte(value ? (byte)1 : (byte)0);
        return this;
    }

    public JuteWriter WriteBuffer(ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        buffer.Write(value);
        return this;
    }

    public JuteWriter WriteNullBuffer() => WriteInt(-1);

    public JuteWriter WriteString(string? value)
    {
        if (value is null) return WriteInt(-1);
        return WriteBuffer(Encoding.UTF8.GetBytes(value));
    }

    public JuteWriter WriteStringVector(IReadOnlyCollection<string> values)
    {
        WriteInt(values.Count);
        foreach (var v in values) WriteString(v);
        return this;
    }

    public int Length => (int)buffer.Length;

    public byte[] ToArray() => buffer.ToArray();

    /// <summary>The bytes with the 4-byte length prefix every ZooKeeper packet carries.</summary>
    public byte[] ToFrame()
    {
        var body = buffer.ToArray();
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }
}
