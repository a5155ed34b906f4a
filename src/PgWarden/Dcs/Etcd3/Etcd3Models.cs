using System.Text.Json.Nodes;

namespace PgWarden.Dcs.Etcd3;

/// <summary>The header every etcd response carries.</summary>
public sealed record Etcd3Header(ulong ClusterId, ulong MemberId, long Revision, long RaftTerm)
{
    public static Etcd3Header Parse(JsonNode? node) => new(
        Etcd3Json.ReadUInt64(node?["cluster_id"]),
        Etcd3Json.ReadUInt64(node?["member_id"]),
        Etcd3Json.ReadInt64(node?["revision"]),
        Etcd3Json.ReadInt64(node?["raft_term"]));
}

/// <summary>One key with its value (both decoded from base64) and its revisions.</summary>
public sealed record Etcd3KeyValue(string Key, string Value, long CreateRevision, long ModRevision, long Version, long Lease)
{
    public static Etcd3KeyValue Parse(JsonNode node) => new(
        Etcd3Json.FromBase64(node["key"]?.GetValue<string>()),
        Etcd3Json.FromBase64(node["value"]?.GetValue<string>()),
        Etcd3Json.ReadInt64(node["create_revision"]),
        Etcd3Json.ReadInt64(node["mod_revision"]),
        Etcd3Json.ReadInt64(node["version"]),
        Etcd3Json.ReadInt64(node["lease"]));
}

public sealed record Etcd3RangeResult(Etcd3Header Header, IReadOnlyList<Etcd3KeyValue> Kvs, long Count)
{
    public static Etcd3RangeResult Parse(JsonNode node)
    {
        var kvs = node["kvs"] is JsonArray a ? a.Where(n => n is not null).Select(n => Etcd3KeyValue.Parse(n!)).ToList() : [];
        return new(Etcd3Header.Parse(node["header"]), kvs, Etcd3Json.ReadInt64(node["count"]));
    }
}

/// <summary>
/// A txn answer. Responses keeps etcd's raw response list (response_put / response_range / response_delete_range
/// / response_txn objects) because callers look inside nested txns.
/// </summary>
public sealed record Etcd3TxnResult(Etcd3Header Header, bool Succeeded, JsonArray Responses)
{
    public static Etcd3TxnResult Parse(JsonNode node) => new(
        Etcd3Header.Parse(node["header"]),
        Etcd3Json.ReadBool(node["succeeded"]),
        node["responses"] as JsonArray ?? []);

    /// <summary>Did the nested txn at responses[index] succeed (the renewal's failure branch)?</summary>
    public bool NestedSucceeded(int index) =>
        index < Responses.Count && Etcd3Json.ReadBool(Responses[index]?["response_txn"]?["succeeded"]);
}

public sealed record Etcd3Lease(long Id, long Ttl);

public enum Etcd3EventType
{
    Put,
    Delete,
}

public sealed record Etcd3Event(Etcd3EventType Type, Etcd3KeyValue Kv);

/// <summary>One message of a watch stream.</summary>
public sealed record Etcd3WatchResponse(
    Etcd3Header Header, bool Created, bool Canceled, string? CancelReason, long CompactRevision, IReadOnlyList<Etcd3Event> Events)
{
    public static Etcd3WatchResponse Parse(JsonNode result)
    {
        var events = new List<Etcd3Event>();
        if (result["events"] is JsonArray a)
        {
            foreach (var e in a)
            {
                if (e?["kv"] is not { } kv) continue;
                // The PUT type is the default (0) and so never sent.
                var type = e["type"]?.GetValue<string>() == "DELETE" ? Etcd3EventType.Delete : Etcd3EventType.Put;
                events.Add(new Etcd3Event(type, Etcd3KeyValue.Parse(kv)));
            }
        }
        return new(
            Etcd3Header.Parse(result["header"]),
            Etcd3Json.ReadBool(result["created"]),
            Etcd3Json.ReadBool(result["canceled"]),
            result["cancel_reason"]?.GetValue<string>(),
            Etcd3Json.ReadInt64(result["compact_revision"]),
            events);
    }
}
