using System.Globalization;
using System.Text;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>The per-run summary: faults by kind, split-brain windows, lost acknowledged inserts, convergence percentiles.</summary>
public sealed record FaultReport(int Seed, string Mode, IReadOnlyList<FaultOutcome> Outcomes, int SplitBrainWindows, int LostAcknowledged,
    long Acknowledged, int CheckerRounds, TimeSpan Duration)
{
    public int NotConverged => Outcomes.Count(o => o.Converge is null);

    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> values, double p)
    {
        if (values.Count == 0) return TimeSpan.Zero;
        var sorted = values.OrderBy(v => v).ToList();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public string Table()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"seed {Seed}, {Mode}, {Outcomes.Count} faults in {Duration.TotalMinutes:0.0} min, {Acknowledged} acknowledged inserts, {Outcomes.Sum(o => o.Unconfirmed)} unconfirmed commits (returned with 'canceling wait for synchronous replication'), {CheckerRounds} checker rounds");
        sb.AppendLine();
        sb.AppendLine("| fault | n | split-brain windows | lost acked inserts | converge p50 (s) | converge p99 (s) | max (s) | not converged |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        void Row(string name, IReadOnlyList<FaultOutcome> os, int? windows = null, int? lost = null)
        {
            var times = os.Where(o => o.Converge is not null).Select(o => o.Converge!.Value).ToList();
            sb.AppendLine(inv, $"| {name} | {os.Count} | {windows ?? os.Sum(o => o.SplitBrainWindows)} | {lost ?? os.Sum(o => o.Lost)} | " +
                               $"{Percentile(times, 50).TotalSeconds:0.0} | {Percentile(times, 99).TotalSeconds:0.0} | " +
                               $"{(times.Count == 0 ? 0 : times.Max().TotalSeconds):0.0} | {os.Count(o => o.Converge is null)} |");
        }
        foreach (var kind in FaultSchedule.AllKinds)
        {
            var os = Outcomes.Where(o => o.Step.Kind == kind).ToList();
            if (os.Count > 0) Row(kind.ToString(), os);
        }
        Row("**all**", Outcomes, SplitBrainWindows, LostAcknowledged);
        return sb.ToString();
    }

    public string Details()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var o in Outcomes)
        {
            var converged = o.Converge is { } c ? c.TotalSeconds.ToString("0.0 s", inv) : "NO";
            var line = $"#{o.Step.Number,3} t={o.Start.TotalSeconds,7:0.0}s {o.What}; converged {converged}" +
                       (o.Lost > 0 ? $"; LOST {o.Lost}" : "") + $"; unconfirmed commits {o.Unconfirmed}" + (o.SplitBrainWindows > 0 ? $"; SPLIT-BRAIN {o.SplitBrainWindows}" : "") +
                       (o.Error is null ? "" : $"; error: {o.Error}");
            sb.AppendLine(line);
        }
        return sb.ToString();
    }
}
