using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>Runs only when PGWARDEN_FAULTS is set (scripts/fault-suite.sh sets it); skipped in the ordinary test run.</summary>
public sealed class LongFaultTierFactAttribute : FactAttribute
{
    public LongFaultTierFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PGWARDEN_FAULTS")))
            Skip = "the long fault tier runs on demand: scripts/fault-suite.sh --faults N [--seed S]";
    }
}

/// <summary>
/// The long fault tier: PGWARDEN_FAULTS faults (seed PGWARDEN_FAULT_SEED, else random and printed). Writes the table and
/// the per-fault details to PGWARDEN_FAULT_REPORT (default /var/tmp/pgwarden-it/fault-suite-SEED.md).
/// </summary>
public sealed class LongFaultTierTests(ITestOutputHelper output)
{
    [LongFaultTierFact]
    public async Task Long_seeded_fault_run_reports_split_brain_lost_inserts_and_convergence()
    {
        var count = int.Parse(Environment.GetEnvironmentVariable("PGWARDEN_FAULTS")!);
        var seed = FaultSchedule.SeedFromEnvironment();
        var path = Environment.GetEnvironmentVariable("PGWARDEN_FAULT_REPORT") is { Length: > 0 } p ? p : $"/var/tmp/pgwarden-it/fault-suite-{seed}.md";
        var progress = Path.ChangeExtension(path, ".log");
        void Log(string line)
        {
            output.WriteLine(line);
            File.AppendAllText(progress, $"{DateTime.UtcNow:HH:mm:ss} {line}\n");
        }
        var suite = new FaultSuite(Log);
        var steps = FaultSchedule.Generate(seed, count, suite.Ttl);
        var report = await suite.RunAsync("itfaultlong", seed, steps);
        var text = report.Table() + "\n```\n" + report.Details() + "```\n";
        await File.WriteAllTextAsync(path, text);
        Log(text);
        Log($"report written to {path}");
        Assert.Equal(0, report.SplitBrainWindows);
        Assert.Equal(0, report.NotConverged);
    }
}
