using System.Buffers.Binary;
using System.Text;

namespace PgWarden.Dcs.ZooKeeper;

/// <summary>Reads Jute records (see <see cref="JuteWriter"/>); a short packet is a protocol error.</summary>
public sealed class JuteReader(ReadOnlyMemory<byte> data)
{
    private int offset;

    public int Remaining => data.Length - offset;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || offset + count > data.Length)
            throw new DcsException(DcsErrorKind.Protocol, $"zookeeper: packet too short: need {count} bytes at offset {offset} of {data.Length}");
        var span = data.Span.Slice(offset, count);
        offset += count;
        return span;
    }

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] != 0;

    public byte[]? ReadBuffer()
    {
        var length = ReadInt();
        return length < 0 ? null : Take(length).ToArray();
    }

    public string? ReadString()
    {
        var length = ReadInt();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    public IReadOnlyList<string> ReadStringVector()
    {
        var count = ReadInt();
        if (count < 0) return [];
        var list = new List<string>(count);
        for (var i = 0; i < count; i++) list.Add(ReadString() ?? "");
        return list;
    }

    public ZkStat ReadStat() => new(
        Czxid: ReadLong(), Mzxid: ReadLong(), Ctime: ReadLong(), Mtime: ReadLong(), Version: ReadInt(),
        Cversion: ReadInt(), Aversion: ReadInt(), EphemeralOwner: ReadLong(), DataLength: ReadInt(),
        NumChildren: ReadInt(), Pzxid: ReadLong());
}
