using System.Diagnostics;
using System.Text;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.IntegrationTests.Safety;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Security;

/// <summary>
/// A pg_basebackup clone and a pg_rewind rejoin (with a separate rewind user), watched from outside: every process of the cluster's OS users has its
/// /proc/PID/cmdline sampled every 20 ms all along, and none may hold the superuser, replication or rewind password.
/// </summary>
public sealed class RewindCloneSecretsTests(ITestOutputHelper output)
{
    private const string RewindPassword = "rewind-pw-Qm58";

    [Fact]
    public async Task No_password_on_a_command_line_during_a_clone_and_a_pg_rewind_rejoin()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itrwsec", 2, startAgents: false);
        using var dump = new LogDump(output, cluster);
        var secrets = new[] { cluster.Spec.SuperuserPassword, cluster.Spec.ReplicationPassword, RewindPassword };
        var replicationBlock = $"    replication:\n      username: replicator\n      password: {cluster.Spec.ReplicationPassword}\n";
        foreach (var n in cluster.Nodes)
        {
            var yaml = await File.ReadAllTextAsync(n.ConfigPath);
            Assert.Contains(replicationBlock, yaml, StringComparison.Ordinal);
            await File.WriteAllTextAsync(n.ConfigPath, yaml.Replace(replicationBlock,
                replicationBlock + $"    rewind:\n      username: rewinder\n      password: {RewindPassword}\n", StringComparison.Ordinal));
        }

        // Only this cluster's processes count: they run as its nodes' OS users (other clusters on the machine use the
        // same lab passwords and are not this test's business).
        var uids = cluster.Nodes.Select(n => OsUser.Ensure(n.OsUserName).Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        static string? UidOf(string procDir)
        {
            try
            {
                return File.ReadLines(Path.Combine(procDir, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))
                    ?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
            }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
        using var stop = new CancellationTokenSource();
        var leaks = new List<string>();
        // Per tool: how many samples caught it, and which processes (pid: command line start).
        var seen = new Dictionary<string, int> { ["pg_basebackup"] = 0, ["pg_rewind"] = 0 };
        var processes = new HashSet<string>();
        var scans = 0;
        var slowest = TimeSpan.Zero;
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                foreach (var dir in Directory.EnumerateDirectories("/proc"))
                {
                    if (!int.TryParse(Path.GetFileName(dir), out _) || UidOf(dir) is not { } uid || !uids.Contains(uid)) continue;
                    string cmdline;
                    try { cmdline = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))).Replace('\0', ' '); }
                    catch (IOException) { continue; }
                    catch (UnauthorizedAccessException) { continue; }
                    lock (leaks)
                    {
                        foreach (var tool in seen.Keys.ToList())
                            if (cmdline.Contains(tool, StringComparison.Ordinal) && !cmdline.Contains("dotnet", StringComparison.Ordinal))
                            {
                                seen[tool]++;
                                processes.Add($"{Path.GetFileName(dir)}: {cmdline[..Math.Min(cmdline.Length, 160)]}");
                            }
                        foreach (var s in secrets)
                            if (cmdline.Contains(s, StringComparison.Ordinal)) leaks.Add(cmdline);
                    }
                }
                scans++;
                if (sw.Elapsed > slowest) slowest = sw.Elapsed;
                await Task.Delay(20);
            }
        });

        // Bootstrap and a pg_basebackup clone.
        foreach (var n in cluster.Nodes) n.Start();
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(150));
        var leader = cluster.Node((await cluster.LeaderAsync())!);
        var replica = cluster.Nodes.Single(n => n != leader);

        // The primary dies under load and comes back behind the new one: the rejoin goes through pg_rewind.
        await SafetyHelpers.ScalarAsync(leader, "CREATE TABLE IF NOT EXISTS rw(i int)");
        await SafetyHelpers.ScalarAsync(leader, "INSERT INTO rw SELECT generate_series(1, 10000) RETURNING 1");
        var oldTimeline = await Scenario.TimelineAsync(leader);
        Scenario.KillAgentAndPostmaster(leader);
        await Wait.UntilAsync(async () => await cluster.LeaderAsync() == replica.Name, TimeSpan.FromSeconds(40), $"{replica.Name} to take the lock");
        await Wait.UntilAsync(() => SafetyHelpers.IsWritablePrimaryAsync(replica), TimeSpan.FromSeconds(30), $"{replica.Name} to be promoted");
        await SafetyHelpers.ScalarAsync(replica, "INSERT INTO rw SELECT generate_series(1, 1000) RETURNING 1");
        // pg_control's timeline moves with the checkpoint after the promotion.
        var newTimeline = 0;
        await Wait.UntilAsync(async () => (newTimeline = await Scenario.TimelineAsync(replica)) > oldTimeline, TimeSpan.FromSeconds(30),
            $"{replica.Name}'s checkpoint on the new timeline");
        var agent = leader.Start();
        await Wait.UntilAsync(async () => await Scenario.WalReceiverAsync(leader) is { Status: "streaming" } r && r.Timeline == newTimeline,
            TimeSpan.FromSeconds(90), $"{leader.Name} to rejoin as a streaming replica on timeline {newTimeline}");
        await stop.CancelAsync();
        await watcher;

        var rewindLines = agent.Output.Split('\n').Where(l => l.Contains("pg_rewind", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{scans} scans of /proc (every 20 ms, slowest scan {slowest.TotalMilliseconds:0} ms); samples of pg_basebackup: {seen["pg_basebackup"]}, of pg_rewind: {seen["pg_rewind"]}");
        output.WriteLine(string.Join("\n", processes));
        output.WriteLine(string.Join("\n", rewindLines.Take(4)));
        Assert.Contains(rewindLines, l => l.Contains($"pg_rewind from {replica.Name}", StringComparison.Ordinal));
        Assert.True(seen["pg_basebackup"] > 0, "the sampler never saw pg_basebackup running");
        Assert.True(seen["pg_rewind"] > 0, "the sampler never saw pg_rewind running");
        Assert.Empty(leaks);
        foreach (var n in cluster.Nodes)
            foreach (var s in secrets)
                Assert.DoesNotContain(s, n.Agent!.Output, StringComparison.Ordinal);
        dump.Passed();
    }
}
