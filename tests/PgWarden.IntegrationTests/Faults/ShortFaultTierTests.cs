using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Faults;

/// <summary>
/// The short fault tier (part of scripts/test.sh), in synchronous_mode_strict: 6 faults dealt from a seeded shuffle of every kind. The seed is
/// printed; PGWARDEN_FAULT_SEED repeats a run exactly (same faults, targets and timings).
/// </summary>
public sealed class ShortFaultTierTests(ITestOutputHelper output)
{
    public const int Faults = 6;

    [Fact]
    public async Task Seeded_faults_in_strict_synchronous_mode_cause_no_split_brain_no_lost_commit_and_every_fault_converges()
    {
        var seed = FaultSchedule.SeedFromEnvironment();
        var progress = $"/var/tmp/pgwarden-it/fault-short-{seed}.log";
        var suite = new FaultSuite(line =>
        {
            output.WriteLine(line);
            File.AppendAllText(progress, $"{DateTime.UtcNow:HH:mm:ss} {line}\n");
        })
        {
            ExtraDcs = FaultSuite.StrictSynchronous,
            Mode = "synchronous_mode_strict",
        };
        var steps = FaultSchedule.Generate(seed, Faults, suite.Ttl);
        var report = await suite.RunAsync("itfault", seed, steps);
        output.WriteLine(report.Table());
        output.WriteLine(report.Details());
        Assert.True(report.SplitBrainWindows == 0, $"seed {seed}: {report.SplitBrainWindows} split-brain windows\n{report.Details()}");
        Assert.True(report.NotConverged == 0, $"seed {seed}: {report.NotConverged} faults did not converge within {FaultSuite.ConvergeDeadline.TotalSeconds} s\n{report.Details()}");
        Assert.Equal(steps.Count, report.Outcomes.Count);
        // Strict synchronous mode: a commit is acknowledged only once a synchronous standby has it, and only that standby may be promoted.
        Assert.True(report.LostAcknowledged == 0, $"seed {seed}: {report.LostAcknowledged} acknowledged inserts lost in {report.Mode}\n{report.Details()}");
    }
}
