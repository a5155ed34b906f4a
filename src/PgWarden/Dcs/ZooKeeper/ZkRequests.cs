namespace PgWarden.Dcs.ZooKeeper;

/// <summary>One operation of a multi (transaction): all apply or none does.</summary>
public abstract record ZkOperation(string Path)
{
    public sealed record Create(string Path, byte[] Data, ZkCreateMode Mode) : ZkOperation(Path);
    public sealed record Delete(string Path, int Version) : ZkOperation(Path);
    public sealed record SetData(string Path, byte[] Data, int Version) : ZkOperation(Path);
    public sealed record Check(string Path, int Version) : ZkOperation(Path);
}

/// <summary>The result of one multi operation: Ok, or the error that made the transaction fail.</summary>
public sealed record ZkOperationResult(int Type, ZkError Error);

/// <summary>
/// The request and response records (org.apache.zookeeper.proto), encoded as Jute. Each writer appends only the
/// record's body; the client adds the length prefix and the request header (xid, op).
/// </summary>
public static class ZkRequests
{
    /// <summary>ConnectRequest: protocolVersion 0, lastZxidSeen, timeOut (ms), sessionId, passwd, readOnly.</summary>
    public static void Connect(JuteWriter w, long lastZxid, int timeoutMs, long sessionId, byte[] password) =>
        w.WriteInt(0).WriteLong(lastZxid).WriteInt(timeoutMs).WriteLong(sessionId).WriteBuffer(password).WriteBool(false);

    public sealed record ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password);

    public static ConnectResponse ReadConnectResponse(JuteReader r)
    {
        var version = r.ReadInt();
        var timeout = r.ReadInt();
        var session = r.ReadLong();
        var password = r.ReadBuffer() ?? [];
        // Servers ≥ 3.4 append readOnly; older ones do not.
        if (r.Remaining > 0) r.ReadBool();
        return new(version, timeout, session, password);
    }

    /// <summary>OPEN_ACL_UNSAFE: perms ALL (31) for world:anyone, what Patroni uses without set_acls.</summary>
    public static void OpenAcl(JuteWriter w) => w.WriteInt(1).WriteInt(31).WriteString("world").WriteString("anyone");

    public static void Create(JuteWriter w, string path, byte[] data, ZkCreateMode mode)
    {
        w.WriteString(path).WriteBuffer(data);
        OpenAcl(w);
        w.WriteInt((int)mode);
    }

    public static void PathVersion(JuteWriter w, string path, int version) => w.WriteString(path).WriteInt(version);

    public static void PathWatch(JuteWriter w, string path, bool watch) => w.WriteString(path).WriteBool(watch);

    public static void SetData(JuteWriter w, string path, byte[] data, int version) => w.WriteString(path).WriteBuffer(data).WriteInt(version);

    /// <summary>MultiTransactionRecord: (MultiHeader type/done/err + body) per op, then the header -1/true/-1.</summary>
    public static void Multi(JuteWriter w, IReadOnlyList<ZkOperation> ops)
    {
        foreach (var op in ops)
        {
            switch (op)
            {
                case ZkOperation.Create c:
                    w.WriteInt(ZkOp.Create).WriteBool(false).WriteInt(-1);
                    Create(w, c.Path, c.Data, c.Mode);
                    break;
                case ZkOperation.Delete d:
                    w.WriteInt(ZkOp.Delete).WriteBool(false).WriteInt(-1);
                    PathVersion(w, d.Path, d.Version);
                    break;
                case ZkOperation.SetData s:
                    w.WriteInt(ZkOp.SetData).WriteBool(false).WriteInt(-1);
                    SetData(w, s.Path, s.Data, s.Version);
                    break;
                case ZkOperation.Check k:
                    w.WriteInt(ZkOp.Check).WriteBool(false).WriteInt(-1);
                    PathVersion(w, k.Path, k.Version);
                    break;
            }
        }
        w.WriteInt(-1).WriteBool(true).WriteInt(-1);
    }

    /// <summary>MultiResponse: per op a header and its result (create: path, setData: stat, error: err code).</summary>
    public static IReadOnlyList<ZkOperationResult> ReadMultiResponse(JuteReader r)
    {
        var results = new List<ZkOperationResult>();
        while (true)
        {
            var type = r.ReadInt();
            var done = r.ReadBool();
            var err = r.ReadInt();
            if (done) break;
            switch (type)
            {
                case ZkOp.Create: r.ReadString(); results.Add(new(type, ZkError.Ok)); break;
                case ZkOp.SetData: r.ReadStat(); results.Add(new(type, ZkError.Ok)); break;
                case ZkOp.Delete or ZkOp.Check: results.Add(new(type, ZkError.Ok)); break;
                case ZkOp.Error: results.Add(new(type, (ZkError)r.ReadInt())); break;
                default: throw new DcsException(DcsErrorKind.Protocol, $"zookeeper: unexpected multi result type {type} (err {err})");
            }
        }
        return results;
    }

    /// <summary>WatcherEvent: type, state, path.</summary>
    public static ZkWatchEvent ReadWatchEvent(JuteReader r) => new((ZkEventType)r.ReadInt(), r.ReadInt(), r.ReadString() ?? "");
}
