using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>HaExecutor: an old primary coming back: pg_rewind, re-clone, or staying stopped with the reason.</summary>
internal sealed partial class HaExecutor
{
    private async Task RewindAsync(HaInput input, string leader, CancellationToken ct)
    {
        var view = input.View!;
        var (host, port) = view.FindMember(leader)?.Data.ParseConnUrl() ?? (null, 0);
        if (host is null) return;
        if (pg.IsPostmasterAlive())
        {
            await pg.StopAsync(StopMode.Fast, StopTimeout, ct);
            state.MarkStopped();
        }
        SetActionState("running pg_rewind", "replica");
        board.Publish(state.ToNodeStatus(config, board.Current));
        var started = time.GetTimestamp();
        var result = await pg.RewindAsync(host, port, ct);
        if (!result.Succeeded)
        {
            FailoverLog.RewindFailed(log, leader, result.Message);
            // The source going away mid-failover (connection refused, timed out) is not a verdict on our data: retry
            // next cycle. A real failure is remembered for this leader only (fault suite: a stale "connection refused"
            // from an earlier leader kept a diverged node from ever rewinding from the next one).
            if (!RewindSourceUnreachable(result.Message))
            {
                state.RewindFailure = result.Message;
                state.RewindFailureLeader = RewindSourceKey(view);
            }
            ReleaseActionState("rewind failed", "replica");
            return;
        }
        FailoverLog.Rewound(log, leader, result.Message, time.GetElapsedTime(started).TotalSeconds);
        state.RewindFailure = null;
        ReleaseActionState("stopped", "replica");
        await StartAsync(UpstreamOf(view, leader), ct);
    }

    /// <summary>Which leader a pg_rewind ran against: name and timeline (a new failover makes an old failure stale).</summary>
    internal static string? RewindSourceKey(ClusterView? view) =>
        view?.Leader is { } l ? $"{l.Name}@{view.LeaderMember?.Data.Timeline ?? view.ClusterTimeline}" : null;

    /// <summary>pg_rewind could not connect to (or lost) the source server: libpq's connection errors.</summary>
    internal static bool RewindSourceUnreachable(string message) =>
        message.Contains("connection to server", StringComparison.Ordinal) &&
        (message.Contains("failed", StringComparison.Ordinal) || message.Contains("timeout", StringComparison.Ordinal))
        || message.Contains("server closed the connection unexpectedly", StringComparison.Ordinal)
        || message.Contains("could not connect to server", StringComparison.Ordinal);

    private async Task ReinitializeAsync(HaInput input, string leader, CancellationToken ct)
    {
        if (pg.IsPostmasterAlive())
        {
            await pg.StopAsync(StopMode.Immediate, FencingStopBudget, ct);
            state.MarkStopped();
        }
        FailoverLog.Reinitializing(log, leader);
        state.RewindFailure = null;
        await CloneAsync(input.View!, leader, ct);
    }

    private async Task StayStoppedAsync(CancellationToken ct)
    {
        if (pg.IsPostmasterAlive())
        {
            await pg.StopAsync(StopMode.Fast, StopTimeout, ct);
            state.MarkStopped();
        }
        state.PgState = "rewind failed";
    }
}
