using System.Globalization;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ha;

/// <summary>
/// One member considered for a switchover or failover, and the rule it failed (Why) when not eligible. Transient: the
/// rule may pass on the next look without anyone changing anything (the probe failed or timed out; the lag was measured
/// against a WAL position the member reports once per loop), so a re-probe is worth it before the request is dropped.
/// </summary>
public sealed record CandidateVerdict(string Name, bool Eligible, string Why, long WalPosition, int FailoverPriority, bool Transient = false);

/// <summary>
/// Patroni's is_failover_possible, with its reasons kept: every member considered, the rule it failed and the
/// measured value ("node2: lag 48 MB > maximum_lag_on_failover 1 MB"). The leader uses it before a graceful
/// switchover; the REST API uses it for the 412 answer, so "no good candidates" always says why.
/// </summary>
public static class SwitchoverCandidates
{
    public static IReadOnlyList<CandidateVerdict> Evaluate(ClusterView view, string? leader, string? candidate,
        IReadOnlyList<PeerStatus> peers, long leaderWal, long maximumLag)
    {
        var verdicts = new List<CandidateVerdict>();
        foreach (var member in view.Members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (member.Name == leader) continue;
            if (candidate is not null && member.Name != candidate) continue;
            var tags = member.Data.Tags is { } t
                ? new MemberTags(t.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone()))
                : MemberTags.Empty;
            var peer = peers.FirstOrDefault(p => p.Name == member.Name);
            verdicts.Add(Judge(member, tags, peer, leaderWal, maximumLag));
        }
        return verdicts;
    }

    private static CandidateVerdict Judge(Member member, MemberTags tags, PeerStatus? peer, long leaderWal, long maximumLag)
    {
        var name = member.Name;
        if (tags.NoFailover)
            return new(name, false, tags.Raw.ContainsKey("nofailover") ? "tagged nofailover" : $"failover_priority {tags.FailoverPriority} <= 0", 0, 0);
        if (string.IsNullOrEmpty(member.Data.ApiUrl)) return new(name, false, "has no api_url in its member key", 0, 0);
        if (peer is not { Reachable: true })
            return new(name, false, peer?.Problem ?? $"did not answer GET {member.Data.ApiUrl} in time", 0, 0, Transient: true);
        if (peer.IsPrimary) return new(name, false, "is running as a primary", peer.WalPosition, peer.FailoverPriority);
        if (peer.NoFailover) return new(name, false, "tagged nofailover", peer.WalPosition, 0);
        var lag = leaderWal - peer.WalPosition;
        if (leaderWal > 0 && lag > maximumLag)
            return new(name, false, $"lag {Mb(lag)} > maximum_lag_on_failover {Mb(maximumLag)}", peer.WalPosition, peer.FailoverPriority, Transient: true);
        return new(name, true, $"eligible (lag {Mb(Math.Max(0, lag))})", peer.WalPosition, peer.FailoverPriority);
    }

    /// <summary>The eligible member furthest ahead; on a tie the higher failover_priority, then the name.</summary>
    public static string? Best(IReadOnlyList<CandidateVerdict> verdicts) => verdicts
        .Where(v => v.Eligible)
        .OrderByDescending(v => v.WalPosition)
        .ThenByDescending(v => v.FailoverPriority)
        .ThenBy(v => v.Name, StringComparer.Ordinal)
        .Select(v => v.Name)
        .FirstOrDefault();

    /// <summary>"node2: lag 48 MB > maximum_lag_on_failover 1 MB; node3: tagged nofailover".</summary>
    public static string Explain(IReadOnlyList<CandidateVerdict> verdicts) =>
        verdicts.Count == 0 ? "no member other than the leader" : string.Join("; ", verdicts.Select(v => $"{v.Name}: {v.Why}"));

    public static string Mb(long bytes)
    {
        var mb = bytes / 1048576.0;
        return (mb == Math.Floor(mb) ? mb.ToString("0", CultureInfo.InvariantCulture) : mb.ToString("0.##", CultureInfo.InvariantCulture)) + " MB";
    }
}
