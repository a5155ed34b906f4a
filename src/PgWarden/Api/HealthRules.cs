using System.Text.Json;
using System.Text.Json.Nodes;
using PgWarden.Ha;

namespace PgWarden.Api;

/// <summary>
/// Patroni's health-check verdicts (compat §2.3, §2.4) as pure functions of the published snapshot, so a load
/// balancer probing us gets exactly what it would get from Patroni, and no request runs SQL.
/// One deliberate addition: when the fast postmaster probe says PostgreSQL is gone, nothing that routes traffic
/// (/primary, /read-write, /replica, /read-only, /health, /standby-leader, /sync, /async) answers 200, even
/// before the HA loop notices.
/// </summary>
public static class HealthRules
{
    public const int Ok = 200;
    public const int Unavailable = 503;

    private static readonly IReadOnlyDictionary<string, string> NoQuery = new Dictionary<string, string>();

    /// <summary>The status code of GET/HEAD/OPTIONS on a health path ("/" counts as "/primary").</summary>
    public static int StatusCode(string path, IReadOnlyDictionary<string, string> query, NodeStatus status,
        bool postmasterHealthy, DateTimeOffset now)
    {
        query ??= NoQuery;
        if (path == "/") path = "/primary";
        var facts = NodeFacts.From(status, postmasterHealthy);
        var view = status.View;

        long leaderOptime = view?.LeaderOptime ?? 0;
        long replayed = facts.ProbeUsable && status.Probe!.InRecovery ? status.Probe.ReplayLsn ?? 0 : 0;
        var maxLag = query.TryGetValue("lag", out var lagText) ? ParseLag(lagText) ?? long.MaxValue : long.MaxValue;
        var isLagging = leaderOptime != 0 && leaderOptime - replayed > maxLag;

        var replicaCode = !status.Tags.NoLoadBalance && !isLagging && facts.Role == "replica" && facts.State == "running"
            ? Ok : Unavailable;

        int leaderCode, primaryCode, standbyLeaderCode;
        if (view is null && status.IsPaused)
        {
            leaderCode = NodeFacts.IsPrimaryRole(facts.Role) || facts.Role == "standby_leader" ? Ok : Unavailable;
            primaryCode = NodeFacts.IsPrimaryRole(facts.Role) ? Ok : Unavailable;
            standbyLeaderCode = facts.Role == "standby_leader" ? Ok : Unavailable;
        }
        else if (status.IsLeader(now))
        {
            leaderCode = Ok;
            if (facts.IsStandbyCluster)
            {
                primaryCode = replicaCode = Unavailable;
                standbyLeaderCode = facts.Role is "replica" or "standby_leader" ? Ok : Unavailable;
            }
            else
            {
                primaryCode = Ok;
                standbyLeaderCode = Unavailable;
            }
        }
        else
        {
            leaderCode = primaryCode = standbyLeaderCode = Unavailable;
        }

        if (!postmasterHealthy)
        {
            // The lock says we lead, but a dead postmaster serves nobody: stop routing traffic here now.
            primaryCode = standbyLeaderCode = replicaCode = Unavailable;
        }

        var code = Unavailable;
        var ignoreTags = false;
        if (path.Contains("standby_leader", StringComparison.Ordinal) || path.Contains("standby-leader", StringComparison.Ordinal))
        {
            code = standbyLeaderCode;
            ignoreTags = true;
        }
        else if (path.Contains("leader", StringComparison.Ordinal))
        {
            code = leaderCode;
            ignoreTags = true;
        }
        else if (path.Contains("master", StringComparison.Ordinal) || path.Contains("primary", StringComparison.Ordinal)
                 || path.Contains("read-write", StringComparison.Ordinal))
        {
            code = primaryCode;
            ignoreTags = true;
        }
        else if (path.Contains("replica", StringComparison.Ordinal))
        {
            code = replicaCode;
        }
        else if (path.Contains("read-only", StringComparison.Ordinal) && !path.Contains("sync", StringComparison.Ordinal)
                 && !path.Contains("quorum", StringComparison.Ordinal))
        {
            code = primaryCode == Ok || standbyLeaderCode == Ok ? Ok : replicaCode;
        }
        else if (path.Contains("health", StringComparison.Ordinal))
        {
            code = facts.State == "running" && postmasterHealthy ? Ok : Unavailable;
        }
        else if (view is not null)
        {
            var (isSync, isQuorum) = SyncMembership(status, facts);
            switch (path)
            {
                case "/sync" or "/synchronous" when isSync:
                    code = replicaCode;
                    break;
                case "/quorum" when isQuorum:
                    code = replicaCode;
                    break;
                case "/async" or "/asynchronous" when !isSync && !isQuorum:
                    code = replicaCode;
                    break;
                case "/read-only-quorum":
                    code = primaryCode == Ok || standbyLeaderCode == Ok ? Ok : isQuorum ? replicaCode : Unavailable;
                    break;
                case "/read-only-sync" or "/read-only-synchronous":
                    code = primaryCode == Ok || standbyLeaderCode == Ok ? Ok : isSync ? replicaCode : Unavailable;
                    break;
            }
        }

        if (!ignoreTags && code == Ok && !TagsMatch(query, status)) code = Unavailable;
        return code;
    }

    /// <summary>
    /// GET /liveness: 200 when paused, or when the loop's next run plus ttl (primary) / 2*ttl (others) is still
    /// ahead. Before the loop published its first schedule the node counts as alive.
    /// </summary>
    public static int Liveness(NodeStatus status, bool postmasterHealthy, DateTimeOffset now)
    {
        if (status.IsPaused || status.NextCycleDue is not { } next) return Ok;
        var facts = NodeFacts.From(status, postmasterHealthy);
        var isPrimary = postmasterHealthy && (NodeFacts.IsPrimaryRole(status.Role) || status.Role == "standby_leader");
        var threshold = TimeSpan.FromSeconds(facts.Dynamic.Ttl * (isPrimary ? 1 : 2));
        return next + threshold > now ? Ok : Unavailable;
    }

    /// <summary>GET /readiness (3.0 rules): 200 for the lock holder, or a running PostgreSQL with a DCS view.</summary>
    public static int Readiness(NodeStatus status, bool postmasterHealthy, DateTimeOffset now)
    {
        if (status.IsLeader(now)) return Ok;
        if (status.PgState == "running" && postmasterHealthy) return status.View is not null ? Ok : Unavailable;
        return Unavailable;
    }

    /// <summary>
    /// The lag query parameter: an integer with an optional case-sensitive unit B, kB, MB, GB, TB (1024-based).
    /// Null when it does not parse (Patroni then applies no lag limit).
    /// </summary>
    public static long? ParseLag(string? text)
    {
        if (text is null) return null;
        var (value, unit) = StrToL(text.Trim());
        if (value is null) return null;
        decimal multiplier = unit switch
        {
            "" or "B" => 1m,
            "kB" => 1024m,
            "MB" => 1024m * 1024,
            "GB" => 1024m * 1024 * 1024,
            "TB" => 1024m * 1024 * 1024 * 1024,
            _ => -1m,
        };
        if (multiplier < 0) return null;
        var bytes = value.Value * multiplier;
        return bytes > long.MaxValue ? long.MaxValue : bytes < long.MinValue ? long.MinValue : (long)bytes;
    }

    /// <summary>Patroni's strtol: leading integer (0x.. hex, 0.. octal, else decimal) and the trimmed rest.</summary>
    private static (decimal? Value, string Unit) StrToL(string s)
    {
        var i = 0;
        var negative = false;
        if (i < s.Length && s[i] is '-' or '+')
        {
            negative = s[i] == '-';
            i++;
        }
        if (i >= s.Length || !char.IsAsciiDigit(s[i])) return (null, s);
        int numberBase = 10;
        if (s[i] == '0')
        {
            i++;
            if (i < s.Length && s[i] is 'x' or 'X')
            {
                // "0x" with no hex digit: Python's int() fails on it, leaving just "0".
                if (i + 1 < s.Length && char.IsAsciiHexDigit(s[i + 1])) { numberBase = 16; i++; }
                else return (0, s[i..].Trim());
            }
            else numberBase = 8;
        }
        decimal value = 0;
        while (i < s.Length && DigitValue(s[i]) is var d && d >= 0 && d < numberBase)
        {
            value = value * numberBase + d;
            if (value > 1e24m) value = 1e24m;
            i++;
        }
        return (negative ? -value : value, s[i..].Trim());
    }

    private static int DigitValue(char c) =>
        c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;

    /// <summary>Whether the node is a synchronous (or, 4.x, quorum) standby according to the DCS sync key.</summary>
    internal static (bool Sync, bool Quorum) SyncMembership(NodeStatus status, NodeFacts facts)
    {
        var mode = facts.Dynamic.SynchronousMode.ToLowerInvariant();
        var on = mode is not ("off" or "false" or "no" or "0" or "") && !facts.IsStandbyCluster;
        var sync = status.View?.Sync;
        if (!on || sync is null || string.IsNullOrEmpty(sync.Leader)) return (false, false);
        var listed = sync.SyncStandbys.Any(n => string.Equals(n, status.Name, StringComparison.OrdinalIgnoreCase));
        return mode == "quorum" ? (false, listed) : (listed, false);
    }

    /// <summary>Every tag_&lt;key&gt;=&lt;value&gt; must equal our tag (non-strings compared as lower-cased text).</summary>
    private static bool TagsMatch(IReadOnlyDictionary<string, string> query, NodeStatus status)
    {
        if (query.Count == 0) return true;
        foreach (var (key, expected) in query)
        {
            if (!key.StartsWith("tag_", StringComparison.Ordinal)) continue;
            if (!status.Tags.Raw.TryGetValue(key[4..], out var tag) || tag is null) return false;
            if (TagText(tag) != expected) return false;
        }
        return true;
    }

    private static string TagText(JsonNode tag)
    {
        if (tag is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        return tag.ToJsonString().ToLowerInvariant();
    }
}
