using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PgWarden.Bench;

/// <summary>
/// The table of the issue: each figure for both agents, the ratio PgWarden/Patroni, the target and whether it is
/// met, plus the machine's load; written as bench/results/latest.md and latest.json.
/// </summary>
public static class Report
{
    public enum TargetKind { None, RatioAtMost, RatioAtLeast, PgWardenAtMost, PgWardenEquals }

    public sealed record Row(string Id, string Title, string Unit, TargetKind Kind = TargetKind.None, double Bound = 0, string Digits = "F2");

    public static readonly IReadOnlyList<Row> Rows =
    [
        new("bootstrap_s", "1. Bootstrap: start to 1 leader + 2 streaming replicas", "s", TargetKind.RatioAtMost, 0.5, "F1"),
        new("switchover_gap_haproxy_s", "2a. Switchover write gap via HAProxy (median)", "s", TargetKind.RatioAtMost, 0.7),
        new("switchover_gap_multihost_s", "2b. Switchover write gap via multi-host string (median)", "s", TargetKind.RatioAtMost, 0.5),
        new("switchover_lost", "2. Switchover: acknowledged writes lost", "writes", TargetKind.PgWardenEquals, 0, "F0"),
        new("failover_default_until_expiry_s", "3. Failover ttl 30/lw 10/rt 10: kill to lock expiry", "s"),
        new("failover_default_haproxy_reaction_s", "3. Failover ttl 30: lock expiry to first write, HAProxy", "s", TargetKind.PgWardenAtMost, 0.5),
        new("failover_default_multihost_reaction_s", "3. Failover ttl 30: lock expiry to first write, multi-host", "s", TargetKind.PgWardenAtMost, 0.5),
        new("failover_default_writable_s", "3. Failover ttl 30: lock expiry to a new primary (direct probe, no client re-detection)", "s"),
        new("failover_default_haproxy_gap_s", "3. Failover ttl 30: write gap, HAProxy", "s"),
        new("failover_default_multihost_gap_s", "3. Failover ttl 30: write gap, multi-host", "s"),
        new("failover_default_lost", "3. Failover ttl 30: acknowledged writes lost", "writes", Digits: "F0"),
        new("failover_fast_until_expiry_s", "3. Failover ttl 10/lw 2/rt 3: kill to lock expiry", "s"),
        new("failover_fast_haproxy_reaction_s", "3. Failover ttl 10: lock expiry to first write, HAProxy", "s", TargetKind.PgWardenAtMost, 0.5),
        new("failover_fast_multihost_reaction_s", "3. Failover ttl 10: lock expiry to first write, multi-host", "s", TargetKind.PgWardenAtMost, 0.5),
        new("failover_fast_writable_s", "3. Failover ttl 10: lock expiry to a new primary (direct probe, no client re-detection)", "s"),
        new("failover_fast_haproxy_gap_s", "3. Failover ttl 10: write gap, HAProxy", "s"),
        new("failover_fast_multihost_gap_s", "3. Failover ttl 10: write gap, multi-host", "s"),
        new("failover_fast_lost", "3. Failover ttl 10: acknowledged writes lost", "writes", Digits: "F0"),
        new("failover_fastprofile_until_expiry_s", "3. Failover, PgWarden's fast profile ttl 4/lw 1/rt 1: kill to lock expiry", "s"),
        new("failover_fastprofile_haproxy_gap_s", "3. Failover fast profile: write gap, HAProxy", "s", TargetKind.PgWardenAtMost, 5),
        new("failover_fastprofile_multihost_gap_s", "3. Failover fast profile: write gap, multi-host", "s", TargetKind.PgWardenAtMost, 5),
        new("failover_fastprofile_multihost_reaction_s", "3. Failover fast profile: lock expiry to first write, multi-host", "s", TargetKind.PgWardenAtMost, 0.5),
        new("failover_fastprofile_writable_s", "3. Failover fast profile: lock expiry to a new primary (direct probe)", "s"),
        new("failover_fastprofile_lost", "3. Failover fast profile: acknowledged writes lost (asynchronous replication)", "writes", Digits: "F0"),
        new("rest_primary_rps", "4. GET /primary on the leader (wrk -t2 -c16)", "req/s", TargetKind.RatioAtLeast, 10, "F0"),
        new("rest_primary_p99_ms", "4. GET /primary p99 latency", "ms", TargetKind.RatioAtMost, 0.2),
        new("rest_replica_rps", "4. GET /replica on a replica (wrk -t2 -c16)", "req/s", TargetKind.RatioAtLeast, 10, "F0"),
        new("rest_replica_p99_ms", "4. GET /replica p99 latency", "ms", TargetKind.RatioAtMost, 0.2),
        new("idle_rss_mb", "5. Idle agent RSS (mean of 3 agents)", "MB", TargetKind.RatioAtMost, 0.75, "F1"),
        new("idle_cpu_s_per_min", "5. Idle agent CPU (mean of 3 agents)", "s/min", TargetKind.RatioAtMost, 0.5, "F3"),
        new("etcd_rps_3", "5. etcd requests, idle cluster of 3", "req/s", TargetKind.RatioAtMost, 1),
        new("etcd_rps_5", "5. etcd requests, idle cluster of 5", "req/s"),
        new("etcd_rps_9", "5. etcd requests, idle cluster of 9", "req/s"),
        new("etcd_growth_9_over_3", "5. DCS growth 3 -> 9 members (x; linear = 3)", "x", TargetKind.PgWardenAtMost, 3.3),
        new("restart_change_s", "6. shared_buffers edit to every node running it", "s", TargetKind.RatioAtMost, 1, "F1"),
    ];

    public static (string Markdown, string Json) Render(BenchOptions options, IReadOnlyList<Measurements> runs, DateTimeOffset started, double seconds)
    {
        var patroni = runs.FirstOrDefault(r => r.Agent == AgentKind.Patroni);
        var pgw = runs.FirstOrDefault(r => r.Agent == AgentKind.PgWarden);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var nproc = Environment.ProcessorCount;
        md.Append(inv, $"# PgWarden vs Patroni 3.0.2: benchmark results\n\n");
        md.Append(inv, $"Generated {started:yyyy-MM-dd HH:mm} UTC by `bench/run.sh{(options.Quick ? " --quick" : "")}` in {seconds / 60:F1} min " +
                       $"({(options.Quick ? "quick mode: fewer repetitions, shorter windows — indicative only" : "full mode")}); " +
                       $"switchovers per agent: {options.SwitchoverRuns}, failovers per profile: {options.FailoverRuns}, idle windows {options.IdleSeconds} s, wrk {options.WrkSeconds} s.\n\n");
        md.Append(inv, $"Machine: {nproc} CPUs (nproc), shared with other work. Load average (1 min) during each agent's run: ");
        md.Append(string.Join("; ", runs.Select(r => $"{r.Agent}: min {r.LoadSamples.DefaultIfEmpty().Min():F2}, mean {r.LoadSamples.DefaultIfEmpty().Average():F2}, max {r.LoadSamples.DefaultIfEmpty().Max():F2} ({r.Seconds / 60:F1} min)")));
        md.Append(".\nAbsolute times drift with the load; the ratios, taken in one run, are the comparison.\n\n");
        md.Append("| figure | unit | Patroni 3.0.2 | PgWarden | PgWarden/Patroni | target | met |\n|---|---|---:|---:|---:|---|---|\n");
        var rowsJson = new List<object>();
        var notes = new List<string>();
        foreach (var row in Rows)
        {
            var a = patroni?.Figures.GetValueOrDefault(row.Id);
            var b = pgw?.Figures.GetValueOrDefault(row.Id);
            // Judged as printed (two decimals): 1.004× against "≤ 1×" is a tie, not a miss.
            double? ratio = a?.Value is { } av && b?.Value is { } bv && av != 0 ? Math.Round(bv / av, 2) : null;
            var (target, met) = Judge(row, a?.Value, b?.Value, ratio);
            md.Append(inv, $"| {row.Title} | {row.Unit} | {Cell(a, row, "Patroni", notes)} | {Cell(b, row, "PgWarden", notes)} | {(ratio is { } r ? r.ToString("F2", inv) : "–")} | {target} | {(met is null ? "–" : met.Value ? "met" : "**not met**")} |\n");
            rowsJson.Add(new { id = row.Id, title = row.Title, unit = row.Unit, patroni = a?.Value, patroni_note = a?.Note, pgwarden = b?.Value, pgwarden_note = b?.Note, ratio, target, met });
        }
        if (notes.Count > 0)
        {
            md.Append("\nNotes:\n\n");
            foreach (var n in notes) md.Append(inv, $"- {n}\n");
        }
        md.Append("""

            How each figure is taken: see [bench/README.md](../README.md). Both agents ran the same generated Patroni-format YAML,
            on the same etcd 3.4, PostgreSQL 15 and HAProxy (`inter 1s fall 2 rise 1`), one after the other.
            Switchovers and the restart are driven by Debian's `patronictl` for both agents.

            """);
        var json = JsonSerializer.Serialize(new
        {
            generated_utc = started,
            mode = options.Quick ? "quick" : "full",
            minutes = seconds / 60,
            machine = new { nproc, load = runs.ToDictionary(r => r.Agent.ToString(), r => new { samples = r.LoadSamples, min = r.LoadSamples.DefaultIfEmpty().Min(), mean = r.LoadSamples.DefaultIfEmpty().Average(), max = r.LoadSamples.DefaultIfEmpty().Max(), minutes = r.Seconds / 60 }) },
            options = new { options.SwitchoverRuns, options.FailoverRuns, options.IdleSeconds, options.WrkSeconds, options.Growth },
            figures = rowsJson,
            details = runs.ToDictionary(r => r.Agent.ToString(), r => r.Details),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
        return (md.ToString(), json);
    }

    private static string Cell(Measured? m, Row row, string agent, List<string> notes)
    {
        if (m is null) return "–";
        var text = m.Value is { } v ? v.ToString(row.Digits, CultureInfo.InvariantCulture) : "missing";
        if (m.Note is null) return text;
        notes.Add($"{agent}, {row.Title}: {m.Note.Replace("|", "/", StringComparison.Ordinal)}");
        return $"{text} [{notes.Count}]";
    }

    private static (string Target, bool? Met) Judge(Row row, double? patroni, double? pgw, double? ratio)
    {
        var inv = CultureInfo.InvariantCulture;
        return row.Kind switch
        {
            TargetKind.RatioAtMost => ($"≤ {row.Bound.ToString(inv)}×", ratio is { } r ? r <= row.Bound : null),
            TargetKind.RatioAtLeast => ($"≥ {row.Bound.ToString(inv)}×", ratio is { } r ? r >= row.Bound : null),
            TargetKind.PgWardenAtMost => ($"PgWarden ≤ {row.Bound.ToString(inv)} {row.Unit}", pgw is { } p ? p <= row.Bound : null),
            TargetKind.PgWardenEquals => ($"PgWarden = {row.Bound.ToString(inv)}", pgw is { } p ? p == row.Bound : null),
            _ => ("", null),
        };
    }
}
