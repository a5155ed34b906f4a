using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Lab;

/// <summary>
/// The lab through the real `pgwarden` executable, as a user runs it (as root), on this developer's address
/// space and OS users (PGWARDEN_TEST_NET, PGWARDEN_TEST_USER_PREFIX) so it never collides with another lab or test.
/// </summary>
public sealed partial class LabEndToEndTests(ITestOutputHelper output)
{
    private static string Pgwarden => Path.Combine(PublishedBinaries.Directory, "pgwarden");
    private readonly string dir = Path.Combine("/var/tmp/pgwarden-it", "lab-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Up_demo_and_down_leave_nothing_behind()
    {
        if (!PgTestUser.IsRoot) return;
        try
        {
            var (up, _) = await RunAsync(TimeSpan.FromMinutes(4), "lab", "up", "--net", AgentCluster.Net, "--user-prefix", AgentCluster.UserPrefix);
            Assert.Equal(0, up);
            var (again, againText) = await RunAsync(TimeSpan.FromMinutes(1), "lab", "up", "--net", AgentCluster.Net, "--user-prefix", AgentCluster.UserPrefix);
            Assert.Equal(0, again);
            Assert.Contains("already running", againText, StringComparison.Ordinal);

            var (demo, demoText) = await RunAsync(TimeSpan.FromMinutes(12), "lab", "demo");
            var verdicts = SummaryLine().Matches(demoText).Select(m => (Step: int.Parse(m.Groups[1].Value), Pass: m.Groups[2].Value == "PASS", Text: m.Groups[3].Value)).ToList();
            Assert.Equal(7, verdicts.Count);
            // Steps 4 (switchover) and 6 (edit-config, restart) need the control commands of issues 3 and 4: until
            // those land, a FAIL is accepted only when the command is missing from this build.
            foreach (var v in verdicts.Where(v => !v.Pass))
                Assert.True(v.Step is 4 or 6 && v.Text.Contains("not available yet", StringComparison.Ordinal), $"step {v.Step} failed: {v.Text}");
            Assert.Equal(verdicts.All(v => v.Pass) ? 0 : 1, demo);

            var state = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "lab.json")))!;
            var pids = state["DcsPids"]!.AsArray().Select(p => (int)p!).Concat(state["Nodes"]!.AsArray().Select(n => (int)n!["AgentPid"]!)).ToList();
            var haproxyPid = int.Parse((await File.ReadAllTextAsync(Path.Combine(dir, "haproxy.pid"))).Trim());
            pids.Add(haproxyPid);
            var (down, _) = await RunAsync(TimeSpan.FromMinutes(3), "lab", "down");
            Assert.Equal(0, down);
            AssertNothingLeft(pids);
        }
        finally
        {
            await CleanUpAsync();
        }
    }

    [Fact]
    public async Task Partitioned_leader_steps_down_and_heal_brings_it_back_as_a_streaming_replica()
    {
        if (!PgTestUser.IsRoot) return;
        try
        {
            Assert.Equal(0, (await RunAsync(TimeSpan.FromMinutes(4), "lab", "up", "--net", AgentCluster.Net, "--user-prefix", AgentCluster.UserPrefix)).Code);
            var before = await MembersAsync();
            var oldLeader = before.Single(m => m.Role == "Leader");

            var sw = Stopwatch.StartNew();
            Assert.Equal(0, (await RunAsync(TimeSpan.FromMinutes(1), "lab", "partition", oldLeader.Name, "--from", "etcd")).Code);
            Assert.NotEmpty(FirewallRules());
            string? newLeader = null;
            await Wait.UntilAsync(async () =>
            {
                newLeader = (await MembersAsync()).SingleOrDefault(m => m.Role == "Leader" && m.Name != oldLeader.Name)?.Name;
                return newLeader is not null;
            }, TimeSpan.FromSeconds(90), "a new leader while the old one is cut off from etcd", TimeSpan.FromMilliseconds(250));
            output.WriteLine($"new leader {newLeader} after {sw.Elapsed.TotalSeconds:F1} s");
            await Wait.UntilAsync(async () => await IsReadOnlyAsync(oldLeader.Host), TimeSpan.FromSeconds(60),
                $"the partitioned old leader {oldLeader.Name} to be read-only", TimeSpan.FromMilliseconds(250));
            output.WriteLine($"{oldLeader.Name} read-only after {sw.Elapsed.TotalSeconds:F1} s");

            sw.Restart();
            Assert.Equal(0, (await RunAsync(TimeSpan.FromMinutes(1), "lab", "heal")).Code);
            Assert.Empty(FirewallRules());
            await Wait.UntilAsync(async () => (await MembersAsync()).Any(m => m.Name == oldLeader.Name && m.Role == "Replica" && m.State == "streaming"),
                TimeSpan.FromSeconds(120), $"{oldLeader.Name} to stream from {newLeader} after heal", TimeSpan.FromMilliseconds(500));
            output.WriteLine($"{oldLeader.Name} streaming from {newLeader} {sw.Elapsed.TotalSeconds:F1} s after heal");
            await RunAsync(TimeSpan.FromMinutes(1), "list", "-c", Path.Combine(dir, "node1", "patroni.yml"));

            Assert.Equal(0, (await RunAsync(TimeSpan.FromMinutes(3), "lab", "down")).Code);
            AssertNothingLeft([]);
        }
        finally
        {
            await CleanUpAsync();
        }
    }

    private sealed record MemberRow(string Name, string Host, string Role, string State);

    private async Task<List<MemberRow>> MembersAsync()
    {
        var psi = new ProcessStartInfo(Pgwarden) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "list", "-c", Path.Combine(dir, "node1", "patroni.yml"), "-f", "json" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var text = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return JsonNode.Parse(text)!.AsArray()
            .Select(m => new MemberRow((string)m!["Member"]!, ((string)m["Host"]!).Split(':')[0], (string)m["Role"]!, (string)m["State"]!)).ToList();
    }

    private static async Task<bool> IsReadOnlyAsync(string host)
    {
        var cs = new NpgsqlConnectionStringBuilder { Host = host, Username = "postgres", Password = "postgres-secret", Database = "postgres", Pooling = false, Timeout = 3 };
        try
        {
            await using var conn = new NpgsqlConnection(cs.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn);
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private List<string> FirewallRules()
    {
        var tag = PgWarden.Lab.LabAddressing.FirewallTag(dir);
        return OsUser.Run("iptables", "-w", "-S").Split('\n').Where(l => l.Contains(tag, StringComparison.Ordinal)).ToList();
    }

    private void AssertNothingLeft(IReadOnlyList<int> pids)
    {
        foreach (var pid in pids) Assert.False(PgWarden.Lab.DetachedProcess.IsAlive(pid), $"process {pid} the lab started is still running");
        for (var i = 1; i <= 3; i++)
        {
            // Zombies are dead already (their parent, often PID 1 here, reaps them when it gets to it).
            var (_, text) = OsUser.Run(false, "pgrep", "-u", AgentCluster.NodeUser(i));
            var alive = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Where(PgWarden.Lab.DetachedProcess.IsAlive).ToList();
            Assert.True(alive.Count == 0, $"processes of {AgentCluster.NodeUser(i)} left: {string.Join(", ", alive)}");
        }
        Assert.Empty(FirewallRules());
        Assert.False(Directory.Exists(dir), $"{dir} was not removed");
    }

    private async Task CleanUpAsync()
    {
        if (File.Exists(Path.Combine(dir, "lab.json"))) await RunAsync(TimeSpan.FromMinutes(3), "lab", "down");
    }

    private async Task<(int Code, string Text)> RunAsync(TimeSpan deadline, params string[] args)
    {
        var all = args[0] == "lab" ? [.. args, "--dir", dir] : args;
        output.WriteLine($"$ pgwarden {string.Join(' ', all)}");
        var psi = new ProcessStartInfo(Pgwarden) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in all) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_ROOT"] = "/usr/share/dotnet";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"pgwarden {string.Join(' ', all)} did not finish in {deadline.TotalSeconds:F0} s:\n{await stdout}{await stderr}");
        }
        var text = await stdout + await stderr;
        output.WriteLine(text);
        output.WriteLine($"(exit {p.ExitCode} after {sw.Elapsed.TotalSeconds:F1} s)");
        return (p.ExitCode, text);
    }

    [GeneratedRegex(@"^(\d)\. (PASS|FAIL)  (.*)$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();
}
