using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PgWarden.Dcs;
using PgWarden.Ha;

namespace PgWarden.Api;

/// <summary>
/// POST /switchover, POST /failover and DELETE /switchover (compat §2.8), in Patroni 3.0.2's validation order
/// with its codes and messages. Beyond Patroni, a 412 for want of candidates names every member considered and
/// the rule it failed ("node2: lag 48 MB > maximum_lag_on_failover 1 MB").
/// </summary>
public static class FailoverEndpoints
{
    /// <summary>How long a member may take to answer GET /patroni during the feasibility check (Patroni: 2 s).</summary>
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(2);

    public static void Register(RestRoutes routes, RestApiContext api, PeerProber peers)
    {
        routes.Map("POST", "switchover", WriteAccess.Require(api, ctx => PostAsync(ctx, api, peers, "switchover")));
        routes.Map("POST", "failover", WriteAccess.Require(api, ctx => PostAsync(ctx, api, peers, "failover")));
        routes.Map("DELETE", "switchover", WriteAccess.Require(api, ctx => DeleteAsync(ctx, api)));
    }

    private static async Task PostAsync(HttpContext ctx, RestApiContext api, PeerProber peers, string action)
    {
        var request = await PlainText.ReadJsonObjectAsync(ctx, api);
        if (request is null) return;
        var leader = Str(request, "leader");
        var candidate = Str(request, "candidate") ?? Str(request, "member");
        var scheduledText = Str(request, "scheduled_at");

        ClusterView view;
        try
        {
            view = await api.Dcs.GetClusterAsync(ctx.RequestAborted);
        }
        catch (DcsException e)
        {
            api.Logger.LogWarning("POST /{Action}: the DCS could not be read: {Message}", action, e.Message);
            await PlainText.WriteAsync(ctx, api, 503, $"failed to write {action} key into DCS");
            return;
        }
        var paused = view.Config?.Value.Pause ?? api.Board.Current.IsPaused;

        var (code, message, scheduledAt) = Validate(action, leader, candidate, scheduledText, paused, api.Time.GetUtcNow());
        if (message is null && scheduledText is null)
        {
            var feasibility = await CheckFeasibilityAsync(view, leader, candidate, action, api, peers, ctx.RequestAborted);
            if (feasibility is not null) (code, message) = (412, feasibility);
        }
        if (message is not null)
        {
            FailoverLog.RestRequest(api.Logger, action, $"{code} {message}");
            await PlainText.WriteAsync(ctx, api, code, message);
            return;
        }

        var value = new JsonObject();
        if (!string.IsNullOrEmpty(leader)) value["leader"] = leader;
        if (!string.IsNullOrEmpty(candidate)) value["member"] = candidate;
        if (scheduledAt is { } at) value["scheduled_at"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
        var writtenAt = api.Time.GetUtcNow();
        try
        {
            await api.Dcs.SetFailoverAsync(value.ToJsonString(), null, ctx.RequestAborted);
        }
        catch (DcsException e)
        {
            api.Logger.LogWarning("POST /{Action}: {Message}", action, e.Message);
            await PlainText.WriteAsync(ctx, api, 503, $"failed to write {action} key into DCS");
            return;
        }
        api.Board.RequestWake();
        if (scheduledAt is not null)
        {
            FailoverLog.RestRequest(api.Logger, action, $"scheduled at {value["scheduled_at"]}");
            await PlainText.WriteAsync(ctx, api, 202, Title(action) + " scheduled");
            return;
        }
        var (pollCode, pollMessage) = await PollResultAsync(api, view.Leader?.Name, candidate, action, writtenAt, ctx.RequestAborted);
        FailoverLog.RestRequest(api.Logger, action, $"{pollCode} {pollMessage}");
        await PlainText.WriteAsync(ctx, api, pollCode, pollMessage);
    }

    /// <summary>Steps 1-3 of Patroni 3.0.2's do_POST_failover: shape, schedule and pause checks.</summary>
    public static (int Code, string? Message, DateTimeOffset? ScheduledAt) Validate(string action, string? leader, string? candidate,
        string? scheduledText, bool paused, DateTimeOffset now)
    {
        if (action == "switchover" && string.IsNullOrEmpty(leader))
            return (400, "Switchover could be performed only from a specific leader", null);
        if (action == "failover" && string.IsNullOrEmpty(candidate))
            return (400, "Failover could be performed only to a specific candidate", null);
        DateTimeOffset? scheduledAt = null;
        if (scheduledText is not null)
        {
            if (string.IsNullOrEmpty(leader)) return (400, $"Scheduled {action} is possible only from a specific leader", null);
            if (paused) return (400, $"Can't schedule {action} in the paused state", null);
            var (code, message, at) = ParseSchedule(scheduledText, action, now);
            if (message is not null) return (code, message, null);
            scheduledAt = at;
        }
        if (paused && string.IsNullOrEmpty(candidate))
            return (400, $"{Title(action)} is possible only to a specific candidate in a paused state", null);
        return (200, null, scheduledAt);
    }

    /// <summary>Patroni's parse_schedule: a timezone is mandatory, the past is refused.</summary>
    public static (int Code, string? Message, DateTimeOffset? At) ParseSchedule(string text, string action, DateTimeOffset now)
    {
        var trimmed = text.Trim();
        if (!DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            return (422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601", null);
        if (!HasZone(trimmed)) return (400, $"Timezone information is mandatory for the scheduled {action}", null);
        if (at < now) return (422, $"Cannot schedule {action} in the past", null);
        return (200, null, at);
    }

    private static bool HasZone(string s)
    {
        if (s.EndsWith('Z') || s.EndsWith('z')) return true;
        var t = s.IndexOf('T', StringComparison.Ordinal) is var i and >= 0 ? s[i..] : s.Contains(' ', StringComparison.Ordinal) ? s[s.IndexOf(' ', StringComparison.Ordinal)..] : "";
        return t.Contains('+', StringComparison.Ordinal) || t.LastIndexOf('-') > 0 || t.Contains("UTC", StringComparison.OrdinalIgnoreCase) || t.Contains("GMT", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Patroni's is_failover_possible, plus the per-member reasons when nobody qualifies.</summary>
    private static async Task<string?> CheckFeasibilityAsync(ClusterView view, string? leader, string? candidate, string action,
        RestApiContext api, PeerProber peers, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(leader) && view.Leader?.Name != leader) return "leader name does not match";
        var currentLeader = view.Leader?.Name;
        List<Member> members;
        if (!string.IsNullOrEmpty(candidate))
        {
            if (action == "switchover" && view.Config?.Value.SynchronousMode is "on" or "true" && view.Sync is { } sync
                && !sync.SyncStandbys.Contains(candidate) && sync.Leader != candidate)
                return "candidate name does not match with sync_standby";
            members = [.. view.Members.Where(m => m.Name == candidate)];
            if (members.Count == 0) return "candidate does not exists";
            // Patroni 3.0.2 lets this through; the leader then drops the request and the caller sees 503 "Switchover failed".
            if (candidate == currentLeader) return null;
        }
        else
        {
            members = [.. view.Members.Where(m => m.Name != currentLeader && !string.IsNullOrEmpty(m.Data.ApiUrl))];
            if (members.Count == 0) return $"{action} is not possible: cluster does not have members except leader";
        }
        var leaderWal = view.LeaderMember?.Data.XlogLocation ?? view.LeaderOptime ?? 0;
        var maxLag = view.Config?.Value.MaximumLagOnFailover ?? api.Board.Current.Dynamic.MaximumLagOnFailover;
        // Members publish their WAL position once per loop (no SQL per REST request): right after a burst of writes
        // a candidate can look behind for up to one loop. Such refusals are re-checked until the candidates' next
        // reports (loop_wait + 1 s) before they are final.
        var settle = TimeSpan.FromSeconds(api.Board.Current.Dynamic.LoopWait + 1);
        var started = api.Time.GetTimestamp();
        while (true)
        {
            var statuses = await peers.ProbeAsync(members, ProbeDeadline, ct);
            var verdicts = SwitchoverCandidates.Evaluate(view, currentLeader, candidate, statuses, leaderWal, maxLag);
            if (verdicts.Any(v => v.Eligible)) return null;
            // Lag (a report up to one loop old) and a failed probe (e.g. a pooled connection the peer had closed, or a
            // timeout on a loaded machine) are transient: re-probe until the settle time before refusing.
            var transient = verdicts.Any(v => v.Transient);
            if (!transient || api.Time.GetElapsedTime(started) >= settle)
                return $"{action} is not possible: no good candidates have been found ({SwitchoverCandidates.Explain(verdicts)})";
            await Task.Delay(TimeSpan.FromMilliseconds(500), api.Time, ct);
        }
    }

    /// <summary>
    /// Patroni's poll_failover_result, at 100 ms instead of 1 s for the same 2*max(10, loop_wait) s. When the request
    /// is dropped and this node is the leader that dropped it, "Switchover failed" is followed by its reason (Patroni's
    /// text stays the prefix; patronictl prints the body as it is).
    /// </summary>
    private static async Task<(int, string)> PollResultAsync(RestApiContext api, string? oldLeader, string? candidate, string action,
        DateTimeOffset writtenAt, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(2 * Math.Max(10, api.Board.Current.Dynamic.LoopWait));
        var started = api.Time.GetTimestamp();
        var past = action == "switchover" ? "switched" : "failed";
        while (api.Time.GetElapsedTime(started) < timeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), api.Time, ct);
            ClusterView view;
            try { view = await api.Dcs.GetClusterAsync(ct); }
            catch (DcsException) { continue; }
            if (view.Leader is { } l && l.Name != oldLeader)
            {
                return string.IsNullOrEmpty(candidate) || candidate == l.Name
                    ? (200, $"Successfully {past} over to \"{l.Name}\"")
                    : (200, $"{Title(past)} over to \"{l.Name}\" instead of \"{candidate}\"");
            }
            if (view.Failover is null or { IsEmpty: true })
            {
                var drop = api.Board.Current.LastFailoverDrop;
                return (503, Title(action) + " failed" + (drop is not null && drop.At >= writtenAt ? ": " + drop.Reason : ""));
            }
        }
        return (503, Title(action) + " status unknown");
    }

    private static async Task DeleteAsync(HttpContext ctx, RestApiContext api)
    {
        ClusterView view;
        try { view = await api.Dcs.GetClusterAsync(ctx.RequestAborted); }
        catch (DcsException) { await PlainText.SendErrorAsync(ctx, api, 409); return; }
        if (view.Failover is not { ScheduledAt: not null } scheduled)
        {
            await PlainText.WriteAsync(ctx, api, 404, "no switchover is scheduled");
            return;
        }
        bool written;
        try { written = await api.Dcs.SetFailoverAsync("{}", scheduled.ModRevision, ctx.RequestAborted); }
        catch (DcsException) { written = false; }
        if (!written) { await PlainText.SendErrorAsync(ctx, api, 409); return; }
        FailoverLog.RestRequest(api.Logger, "DELETE switchover", "scheduled switchover deleted");
        await PlainText.WriteAsync(ctx, api, 200, "scheduled switchover deleted");
    }

    private static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : o[key]?.ToString();

    private static string Title(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
