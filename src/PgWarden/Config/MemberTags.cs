using System.Text.Json.Nodes;

namespace PgWarden.Config;

/// <summary>
/// A member's tags as Patroni publishes them: the predefined ones with meaning, plus any custom tag.
/// Raw keeps every tag with its JSON value, so custom tags round-trip into the member key untouched.
/// </summary>
public sealed record MemberTags(IReadOnlyDictionary<string, JsonNode?> Raw)
{
    public static readonly MemberTags Empty = new(new Dictionary<string, JsonNode?>());

    /// <summary>nofailover wins when set; otherwise a node with failover_priority &lt;= 0 is nofailover.</summary>
    public bool NoFailover
    {
        get
        {
            if (Raw.TryGetValue("nofailover", out var v) && v is not null) return IsTruthy(v);
            return Raw.ContainsKey("failover_priority") && FailoverPriority <= 0;
        }
    }

    public int FailoverPriority
    {
        get
        {
            if (Raw.TryGetValue("nofailover", out var nf) && nf is not null && IsTruthy(nf)) return 0;
            if (Raw.TryGetValue("failover_priority", out var p) && p is not null
                && int.TryParse(p.ToString(), out var prio)) return prio;
            return 1;
        }
    }

    public bool NoLoadBalance => Flag("noloadbalance");
    public bool CloneFrom => Flag("clonefrom");
    public bool NoSync => Flag("nosync");
    public bool NoStream => Flag("nostream");
    public string? ReplicateFrom => Raw.TryGetValue("replicatefrom", out var v) && v is not null ? v.ToString() : null;

    private bool Flag(string name) => Raw.TryGetValue(name, out var v) && v is not null && IsTruthy(v);

    /// <summary>Patroni's bool parser: on/true/yes/1 (any case) are true.</summary>
    public static bool IsTruthy(JsonNode node)
    {
        if (node is JsonValue value)
        {
            if (value.TryGetValue<bool>(out var b)) return b;
            if (value.TryGetValue<long>(out var l)) return l != 0;
            if (value.TryGetValue<double>(out var d)) return d != 0;
        }
        var s = node.ToString().Trim().ToLowerInvariant();
        return s is "on" or "true" or "yes" or "1" or "y";
    }

    /// <summary>The tags object written into the member key: truthy predefined tags plus every custom tag.</summary>
    public JsonObject ToMemberJson()
    {
        var o = new JsonObject();
        foreach (var (k, v) in Raw)
        {
            var predefinedBool = k is "nofailover" or "clonefrom" or "noloadbalance" or "nosync" or "nostream";
            if (predefinedBool && (v is null || !IsTruthy(v))) continue;
            if (k == "replicatefrom" && (v is null || string.IsNullOrEmpty(v.ToString()))) continue;
            o[k] = v?.DeepClone();
        }
        return o;
    }
}
