using System.Text.Json.Nodes;

namespace PgWarden.Dcs.Etcd3;

/// <summary>
/// Builders for txn compares and request ops, in the gateway's exact field names (compat §1.4).
/// Keys and values are given as plain strings and base64-encoded here.
/// </summary>
public static class Etcd3Txn
{
    /// <summary>"the key does not exist": its create_revision is 0.</summary>
    public static JsonObject KeyMissing(string key) => CreateRevisionIs(key, 0);

    public static JsonObject CreateRevisionIs(string key, long revision) => new()
    {
        ["key"] = Etcd3Json.ToBase64(key),
        ["target"] = "CREATE",
        ["create_revision"] = Etcd3Json.Int64String(revision),
    };

    public static JsonObject ModRevisionIs(string key, long revision) => new()
    {
        ["key"] = Etcd3Json.ToBase64(key),
        ["target"] = "MOD",
        ["mod_revision"] = Etcd3Json.Int64String(revision),
    };

    public static JsonObject ValueIs(string key, string value) => new()
    {
        ["key"] = Etcd3Json.ToBase64(key),
        ["target"] = "VALUE",
        ["value"] = Etcd3Json.ToBase64(value),
    };

    public static JsonObject Put(string key, string value, long lease = 0) =>
        new() { ["request_put"] = PutBody(key, value, lease) };

    public static JsonObject Delete(string key) =>
        new() { ["request_delete_range"] = new JsonObject { ["key"] = Etcd3Json.ToBase64(key) } };

    public static JsonObject Nested(IEnumerable<JsonObject> compare, IEnumerable<JsonObject> success, IEnumerable<JsonObject>? failure = null) =>
        new() { ["request_txn"] = Body(compare, success, failure) };

    internal static JsonObject PutBody(string key, string value, long lease)
    {
        var o = new JsonObject { ["key"] = Etcd3Json.ToBase64(key), ["value"] = Etcd3Json.ToBase64(value) };
        if (lease != 0) o["lease"] = Etcd3Json.Int64String(lease);
        return o;
    }

    internal static JsonObject Body(IEnumerable<JsonObject> compare, IEnumerable<JsonObject> success, IEnumerable<JsonObject>? failure)
    {
        var o = new JsonObject
        {
            ["compare"] = new JsonArray(compare.Select(JsonNode? (c) => c).ToArray()),
            ["success"] = new JsonArray(success.Select(JsonNode? (c) => c).ToArray()),
        };
        if (failure is not null) o["failure"] = new JsonArray(failure.Select(JsonNode? (c) => c).ToArray());
        return o;
    }
}
