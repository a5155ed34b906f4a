using System.Globalization;

namespace PgWarden.Bench;

/// <summary>Command-line options of the benchmark; --quick shortens every window for development runs.</summary>
public sealed record BenchOptions
{
    public bool Quick { get; init; }
    public IReadOnlyList<AgentKind> Agents { get; init; } = [AgentKind.Patroni, AgentKind.PgWarden];
    public int IdleSeconds { get; init; } = 60;
    public int WrkSeconds { get; init; } = 10;
    public int SwitchoverRuns { get; init; } = 5;
    public int FailoverRuns { get; init; } = 3;
    public bool Growth { get; init; } = true;
    public string PgWardenBin { get; init; } = "/var/tmp/pgwarden-bench/bin/pgwarden";
    public string WorkDir { get; init; } = "/var/tmp/pgwarden-bench/run";
    public string ResultsDir { get; init; } = "bench/results";
    /// <summary>First three octets of every address the benchmark uses (etcd and HAProxy on .10, nodes on .11..).</summary>
    public string Net { get; init; } = "127.0.4";
    public string UserPrefix { get; init; } = "pg4";
    /// <summary>Steps to run after bootstrap (default all): idle, rest, switchover, restart, growth, failover.</summary>
    public IReadOnlySet<string>? Steps { get; init; }
    /// <summary>Extra environment for PgWarden agents (runtime knobs tried before they go into the project file).</summary>
    public IReadOnlyDictionary<string, string> AgentEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Failover profiles to run (default all): default (ttl 30), fast (ttl 10), fastprofile (PgWarden's ttl 4).</summary>
    public IReadOnlySet<string>? FailoverProfiles { get; init; }

    public bool Runs(string step) => Steps is null || Steps.Contains(step);

    public bool RunsProfile(string profile) => FailoverProfiles is null || FailoverProfiles.Contains(profile);

    public const string Usage = """
        usage: pgwarden-bench [--quick] [--agents patroni,pgwarden] [--idle-seconds N] [--wrk-seconds N]
                              [--switchovers N] [--failovers N] [--no-growth] [--pgwarden PATH]
                              [--work-dir DIR] [--results DIR] [--net A.B.C] [--user-prefix P]
                              [--steps a,b] [--failover-profiles a,b] [--agent-env K=V]
          --quick          2 switchovers, 1 failover per profile, 30 s idle windows (3 loops at loop_wait 10), 3 s wrk runs
          --agents         which agents to run, in this order (default patroni,pgwarden)
          --idle-seconds   length of each idle window (cost at rest, DCS growth); default 60
          --steps          only these steps after bootstrap: idle,rest,switchover,restart,growth,failover
          --failover-profiles  only these: default (ttl 30/lw 10/rt 10), fast (10/2/3), fastprofile (PgWarden's 4/1/1)
          --agent-env K=V  extra environment for PgWarden agents (e.g. DOTNET_GCgen0size=0x400000), repeatable
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = args.Contains("--quick")
            ? new BenchOptions { Quick = true, IdleSeconds = 30, WrkSeconds = 3, SwitchoverRuns = 2, FailoverRuns = 1 }
            : new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() { var v = Next(); return int.TryParse(v, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} expects a positive integer, got '{v}'"); }
            o = args[i] switch
            {
                "--quick" or "--help" or "-h" => o,
                "--agents" => o with { Agents = Next().Split(',').Select(ParseAgent).ToList() },
                "--idle-seconds" => o with { IdleSeconds = Int() },
                "--wrk-seconds" => o with { WrkSeconds = Int() },
                "--switchovers" => o with { SwitchoverRuns = Int() },
                "--failovers" => o with { FailoverRuns = Int() },
                "--no-growth" => o with { Growth = false },
                "--pgwarden" => o with { PgWardenBin = Next() },
                "--work-dir" => o with { WorkDir = Next() },
                "--results" => o with { ResultsDir = Next() },
                "--net" => o with { Net = Next() },
                "--user-prefix" => o with { UserPrefix = Next() },
                "--steps" => o with { Steps = Next().Split(',').Select(x => x.Trim()).ToHashSet() },
                "--failover-profiles" => o with { FailoverProfiles = Next().Split(',').Select(x => x.Trim()).ToHashSet() },
                "--agent-env" => o with { AgentEnvironment = new Dictionary<string, string>(o.AgentEnvironment) { [Next().Split('=')[0]] = args[i].Split('=', 2)[1] } },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        return o;
    }

    private static AgentKind ParseAgent(string s) => s.Trim().ToLowerInvariant() switch
    {
        "patroni" => AgentKind.Patroni,
        "pgwarden" => AgentKind.PgWarden,
        _ => throw new ArgumentException($"unknown agent '{s}': expected patroni or pgwarden"),
    };
}

public enum AgentKind { Patroni, PgWarden }
