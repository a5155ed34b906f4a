using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PgWarden.Config;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Dcs;

/// <summary>
/// Turns the keys of a cluster into a <see cref="ClusterView"/> and writes values the way Patroni does
/// (compat §1.2): compact JSON, Patroni's field names, nulls left out. Reading is lenient like Patroni's:
/// a bad value yields an empty object, never an exception.
/// </summary>
public static class DcsCodec
{
    /// <summary>Compact, and without escaping '+' or '&lt;' the way the default encoder would (Patroni does not).</summary>
    public static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ClusterView ParseCluster(DcsKeys keys, IEnumerable<Etcd3KeyValue> kvs, long revision)
    {
        var members = new List<Member>();
        Etcd3KeyValue? leader = null, config = null, initialize = null, status = null, optime = null,
            failover = null, sync = null, history = null, failsafe = null;
        foreach (var kv in kvs)
        {
            var relative = keys.Relative(kv.Key);
            if (relative is null) continue;
            switch (relative)
            {
                case DcsKeys.LeaderKey: leader = kv; break;
                case DcsKeys.ConfigKey: config = kv; break;
                case DcsKeys.InitializeKey: initialize = kv; break;
                case DcsKeys.StatusKey: status = kv; break;
                case DcsKeys.LegacyOptimeKey: optime = kv; break;
                case DcsKeys.FailoverKey: failover = kv; break;
                case DcsKeys.SyncKey: sync = kv; break;
                case DcsKeys.HistoryKey: history = kv; break;
                case DcsKeys.FailsafeKey: failsafe = kv; break;
                default:
                    if (DcsKeys.MemberName(relative) is { } name)
                        members.Add(new Member(name, ParseMemberData(kv.Value), kv.ModRevision, kv.Lease));
                    break;
            }
        }
        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ClusterView
        {
            Initialize = initialize?.Value,
            Config = config is null ? null : ParseConfig(config.Value, config.ModRevision),
            InvalidConfig = config is null || ConfigError(config.Value) is not { } error ? null : new InvalidConfigKey(error, config.ModRevision),
            Leader = leader is null ? null : new LeaderKey(leader.Value, leader.ModRevision, leader.Lease),
            Members = members,
            Status = status is not null ? ParseStatus(status.Value) : optime is not null ? ParseLegacyOptime(optime.Value) : null,
            Failover = failover is null ? null : ParseFailover(failover.Value, failover.ModRevision),
            Sync = sync is null ? null : ParseSync(sync.Value, sync.ModRevision),
            History = history is null ? null : ParseHistory(history.Value),
            Failsafe = failsafe is null ? null : ParseFailsafe(failsafe.Value),
            Revision = revision,
            Problems = FindProblems(keys, kvs),
        };
    }

    /// <summary>Every key of the cluster whose value is not what Patroni writes there (see <see cref="ValueProblem"/>).</summary>
    public static IReadOnlyList<DcsValueProblem> FindProblems(DcsKeys keys, IEnumerable<Etcd3KeyValue> kvs)
    {
        List<DcsValueProblem>? problems = null;
        foreach (var kv in kvs)
        {
            if (keys.Relative(kv.Key) is not { } relative || ValueProblem(relative, kv.Value) is not { } problem) continue;
            (problems ??= []).Add(new DcsValueProblem(relative, kv.Value, problem));
        }
        return problems ?? (IReadOnlyList<DcsValueProblem>)[];
    }

    /// <summary>
    /// Why the value of a key (relative to the cluster prefix) cannot be read as Patroni writes it; null when it can
    /// (unknown keys are not judged). The parsers above stay lenient; this only says what they had to ignore.
    /// </summary>
    public static string? ValueProblem(string relativeKey, string value)
    {
        switch (relativeKey)
        {
            case DcsKeys.LeaderKey:
                return value.Length == 0 || value.Any(char.IsControl) || value.Length > 256 || value.TrimStart().StartsWith('{') || value.TrimStart().StartsWith('[')
                    ? "expected a member name" : null;
            case DcsKeys.ConfigKey:
                return ConfigError(value) is { } error ? "expected the dynamic configuration as a JSON object: " + error : null;
            case DcsKeys.InitializeKey:
                return value.All(char.IsAsciiDigit) ? null : "expected a system identifier (digits) or an empty value";
            case DcsKeys.StatusKey:
                return ParseJson(value) is JsonObject || (ParseJson(value) is JsonValue v && AsLong(v) is not null) ? null : "expected a JSON object {\"optime\":..,\"slots\":{..}}";
            case DcsKeys.LegacyOptimeKey:
                return long.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : "expected an integer LSN";
            case DcsKeys.FailoverKey:
                var trimmed = value.Trim();
                if (trimmed.Length == 0) return null;
                if (!trimmed.StartsWith('{') && trimmed.Contains(':'))
                    return trimmed.Any(c => char.IsControl(c) || c is '[' or ']' or '{' or '}' or '"')
                        ? "expected a JSON object {\"leader\":..,\"member\":..} or \"leader:candidate\"" : null;
                return TryParseObject(trimmed) is null ? "expected a JSON object {\"leader\":..,\"member\":..} or \"leader:candidate\"" : null;
            case DcsKeys.SyncKey:
                return TryParseObject(value) is null ? "expected a JSON object {\"leader\":..,\"sync_standby\":..}" : null;
            case DcsKeys.HistoryKey:
                if (ParseJson(value) is not JsonArray lines) return "expected a JSON array of [timeline, lsn, reason, ...] lines";
                var bad = lines.Count(l => l is not JsonArray a || a.Count < 3 || a.Count > 5 || AsLong(a[0]) is null || AsLong(a[1]) is null);
                return bad == 0 ? null : $"{bad} of {lines.Count} line(s) are not [timeline, lsn, reason, ...] and are ignored";
            case DcsKeys.FailsafeKey:
                return TryParseObject(value) is null ? "expected a JSON object {member: api_url}" : null;
            default:
                if (DcsKeys.MemberName(relativeKey) is null) return null;
                return value.StartsWith("postgres", StringComparison.Ordinal) || TryParseObject(value) is not null
                    ? null : "expected the member's JSON object";
        }
    }

    private static JsonNode? ParseJson(string value)
    {
        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---- members ----

    public static MemberData ParseMemberData(string value)
    {
        if (value.StartsWith("postgres", StringComparison.Ordinal)) return ParseLegacyMember(value);
        if (TryParseObject(value) is not { } o) return new MemberData();
        return new MemberData
        {
            ConnUrl = GetString(o, "conn_url"),
            ApiUrl = GetString(o, "api_url"),
            State = GetString(o, "state"),
            Role = GetString(o, "role"),
            Version = GetString(o, "version"),
            XlogLocation = GetLong(o, "xlog_location"),
            ReceiveLsn = GetLong(o, "receive_lsn"),
            ReplayLsn = GetLong(o, "replay_lsn"),
            ReplicationState = GetString(o, "replication_state"),
            Timeline = (int?)GetLong(o, "timeline"),
            Tags = o["tags"] as JsonObject is { } tags ? (JsonObject)tags.DeepClone() : null,
            PendingRestart = GetBool(o, "pending_restart") ?? false,
            PendingRestartReason = o["pending_restart_reason"] is JsonObject r ? (JsonObject)r.DeepClone() : null,
            ScheduledRestart = o["scheduled_restart"] is JsonObject s ? (JsonObject)s.DeepClone() : null,
            Pause = GetBool(o, "pause") ?? false,
            CheckpointAfterPromote = GetBool(o, "checkpoint_after_promote"),
            PgWardenVersion = GetString(o, "pgwarden_version"),
        };
    }

    /// <summary>Governor's format: postgres://user:pass@host:port/db?application_name=&lt;api_url&gt;.</summary>
    private static MemberData ParseLegacyMember(string value)
    {
        var q = value.IndexOf('?', StringComparison.Ordinal);
        if (q < 0) return new MemberData { ConnUrl = value };
        string? api = null;
        foreach (var pair in value[(q + 1)..].Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && pair[..eq] == "application_name") api = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
        }
        return new MemberData { ConnUrl = value[..q], ApiUrl = api };
    }

    /// <summary>The members/&lt;name&gt; value, in Patroni's field order, plus pgwarden_version.</summary>
    public static string SerializeMember(MemberData d)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            WriteString(w, "conn_url", d.ConnUrl);
            WriteString(w, "api_url", d.ApiUrl);
            WriteString(w, "state", d.State);
            WriteString(w, "role", d.Role);
            WriteString(w, "version", d.Version);
            if (d.CheckpointAfterPromote is { } cap) w.WriteBoolean("checkpoint_after_promote", cap);
            if (d.Tags is { Count: > 0 } tags)
            {
                w.WritePropertyName("tags");
                tags.WriteTo(w);
            }
            if (d.PendingRestart) w.WriteBoolean("pending_restart", true);
            if (d.PendingRestartReason is { } reason)
            {
                w.WritePropertyName("pending_restart_reason");
                reason.WriteTo(w);
            }
            if (d.XlogLocation is { } x) w.WriteNumber("xlog_location", x);
            if (d.ReceiveLsn is { } rl) w.WriteNumber("receive_lsn", rl);
            if (d.ReplayLsn is { } pl) w.WriteNumber("replay_lsn", pl);
            WriteString(w, "replication_state", d.ReplicationState);
            if (d.Timeline is { } t) w.WriteNumber("timeline", t);
            if (d.ScheduledRestart is { } sr)
            {
                w.WritePropertyName("scheduled_restart");
                sr.WriteTo(w);
            }
            if (d.Pause) w.WriteBoolean("pause", true);
            WriteString(w, "pgwarden_version", d.PgWardenVersion);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    // ---- config ----

    public static VersionedConfig? ParseConfig(string value, long modRevision)
    {
        if (TryParseObject(value) is not { } o) return null;
        try
        {
            return new VersionedConfig(DynamicConfigParser.Parse(o, new List<string>()), modRevision, value);
        }
        catch (Exception e) when (e is ConfigException or InvalidOperationException or FormatException or OverflowException or ArgumentException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Why a config value cannot be used (not a JSON object, a timing that is not a number); null when it can.</summary>
    public static string? ConfigError(string value)
    {
        if (TryParseObject(value) is not { } o) return $"the value is not a JSON object: {Truncate(value, 80)}";
        try
        {
            DynamicConfigParser.Parse(o, new List<string>());
            return null;
        }
        catch (Exception e) when (e is ConfigException or InvalidOperationException or FormatException or OverflowException or ArgumentException or JsonException)
        {
            return e.Message;
        }
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";

    // ---- status, failover, sync, history, failsafe ----

    public static ClusterStatus ParseStatus(string value)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            return new ClusterStatus(null, new Dictionary<string, long>());
        }
        // Legacy: a bare integer.
        if (node is JsonValue v) return new ClusterStatus(AsLong(v), new Dictionary<string, long>());
        if (node is not JsonObject o) return new ClusterStatus(null, new Dictionary<string, long>());
        var slotsNode = o["slots"];
        if (slotsNode is JsonValue sv && sv.TryGetValue<string>(out var slotsText)) slotsNode = TryParseObject(slotsText);
        var slots = new Dictionary<string, long>();
        if (slotsNode is JsonObject so)
        {
            foreach (var (k, lsn) in so)
            {
                if (AsLong(lsn) is { } l) slots[k] = l;
            }
        }
        return new ClusterStatus(GetLong(o, "optime"), slots);
    }

    private static ClusterStatus ParseLegacyOptime(string value) =>
        new(long.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null, new Dictionary<string, long>());

    public static FailoverRequest ParseFailover(string value, long modRevision)
    {
        var trimmed = value.Trim();
        if (!trimmed.StartsWith('{') && trimmed.Contains(':'))
        {
            // Legacy "leader:candidate".
            var parts = trimmed.Split(':').Select(p => p.Trim()).ToArray();
            return new FailoverRequest(NullIfEmpty(parts[0]), parts.Length > 1 ? NullIfEmpty(parts[1]) : null, null, modRevision);
        }
        if (TryParseObject(trimmed) is not { } o) return new FailoverRequest(null, null, null, modRevision);
        DateTimeOffset? at = GetString(o, "scheduled_at") is { } s
                             && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : null;
        return new FailoverRequest(GetString(o, "leader"), GetString(o, "member"), at, modRevision);
    }

    public static SyncState ParseSync(string value, long modRevision)
    {
        if (TryParseObject(value) is not { } o) return new SyncState(null, [], 0, modRevision);
        var standbys = GetString(o, "sync_standby") is { } s
            ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : [];
        return new SyncState(GetString(o, "leader"), standbys, (int?)GetLong(o, "quorum") ?? 0, modRevision);
    }

    /// <summary>Lines of 3 to 5 elements; malformed lines are skipped, unparsable JSON reads as [].</summary>
    public static IReadOnlyList<HistoryEntry> ParseHistory(string value)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            return [];
        }
        var entries = new List<HistoryEntry>();
        if (node is not JsonArray lines) return entries;
        foreach (var line in lines)
        {
            if (line is not JsonArray a || a.Count < 3 || a.Count > 5) continue;
            if (AsLong(a[0]) is not { } tl || AsLong(a[1]) is not { } lsn) continue;
            entries.Add(new HistoryEntry((int)tl, lsn, AsString(a[2]) ?? "",
                a.Count > 3 ? AsString(a[3]) : null, a.Count > 4 ? AsString(a[4]) : null));
        }
        return entries;
    }

    public static IReadOnlyDictionary<string, string> ParseFailsafe(string value)
    {
        var result = new Dictionary<string, string>();
        if (TryParseObject(value) is not { } o) return result;
        foreach (var (k, v) in o)
        {
            if (AsString(v) is { } url) result[k] = url;
        }
        return result;
    }

    /// <summary>{"optime":..,"slots":{..}}; slots left out when null or empty.</summary>
    public static string SerializeStatus(long optime, IReadOnlyDictionary<string, long>? slots)
    {
        var o = new JsonObject { ["optime"] = optime };
        if (slots is { Count: > 0 })
        {
            var so = new JsonObject();
            foreach (var (k, v) in slots.OrderBy(p => p.Key, StringComparer.Ordinal)) so[k] = v;
            o["slots"] = so;
        }
        return o.ToJsonString(CompactJson);
    }

    public static string SerializeFailsafe(IReadOnlyDictionary<string, string> members)
    {
        var o = new JsonObject();
        foreach (var (k, v) in members) o[k] = v;
        return o.ToJsonString(CompactJson);
    }

    // ---- lenient JSON readers ----

    private static JsonObject? TryParseObject(string value)
    {
        try
        {
            return JsonNode.Parse(value) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? GetString(JsonObject o, string name) => AsString(o[name]);

    private static string? AsString(JsonNode? n) => n switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    private static long? GetLong(JsonObject o, string name) => AsLong(o[name]);

    private static long? AsLong(JsonNode? n)
    {
        if (n is not JsonValue v) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<double>(out var d) && !double.IsNaN(d) && Math.Abs(d) < 9e18) return (long)d;
        if (v.TryGetValue<string>(out var s) && long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p)) return p;
        return null;
    }

    private static bool? GetBool(JsonObject o, string name) => o[name] is { } n ? MemberTags.IsTruthy(n) : null;

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static void WriteString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }
}
