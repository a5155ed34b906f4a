using System.Text;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Security;

/// <summary>
/// A real 3-node bootstrap and clone, watched from outside: no password on any process's command line, the
/// secret-holding files owner-only, no password in the agents' logs, in GET /config or in show-config, and a
/// postgresql.authentication put into bootstrap.dcs by mistake never reaching the DCS config key.
/// </summary>
public sealed class SecretsTests(ITestOutputHelper output)
{
    private const string DcsLeak = "dcs-leak-pw-4417";

    [Fact]
    public async Task Passwords_stay_off_command_lines_logs_the_config_key_and_world_readable_files()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itsecret", 3, startAgents: false);
        var secrets = new[] { cluster.Spec.SuperuserPassword, cluster.Spec.ReplicationPassword, DcsLeak };
        foreach (var n in cluster.Nodes)
        {
            var yaml = File.ReadAllText(n.ConfigPath);
            Assert.Contains("    postgresql:\n      use_pg_rewind:", yaml, StringComparison.Ordinal);
            File.WriteAllText(n.ConfigPath, yaml.Replace("    postgresql:\n      use_pg_rewind:",
                $"    postgresql:\n      authentication:\n        superuser:\n          password: {DcsLeak}\n      use_pg_rewind:", StringComparison.Ordinal));
        }

        // Watch every process's command line and every initdb password file while the cluster bootstraps and clones.
        using var stop = new CancellationTokenSource();
        var leaks = new List<string>();
        var pwfileModes = new HashSet<string>();
        var scans = 0;
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var dir in Directory.EnumerateDirectories("/proc"))
                {
                    if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
                    string cmdline;
                    try { cmdline = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))).Replace('\0', ' '); }
                    catch (IOException) { continue; }
                    catch (UnauthorizedAccessException) { continue; }
                    foreach (var s in secrets)
                        if (cmdline.Contains(s, StringComparison.Ordinal)) lock (leaks) leaks.Add(cmdline);
                }
                foreach (var f in Directory.EnumerateFiles(Path.GetTempPath(), "pgwarden-pwfile-*"))
                {
                    try { lock (pwfileModes) pwfileModes.Add(File.GetUnixFileMode(f).ToString()); }
                    catch (IOException) { }
                }
                scans++;
                await Task.Delay(10);
            }
        });
        var started = DateTime.UtcNow;
        foreach (var n in cluster.Nodes) n.Start();
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(150));
        await stop.CancelAsync();
        await watcher;
        output.WriteLine($"bootstrap + 2 clones in {(DateTime.UtcNow - started).TotalSeconds:F1} s, {scans} scans of /proc; initdb pwfile modes seen: {string.Join(", ", pwfileModes)}");
        Assert.Empty(leaks);
        Assert.All(pwfileModes, m => Assert.Equal((UnixFileMode.UserRead | UnixFileMode.UserWrite).ToString(), m));

        // Owner-only files.
        foreach (var n in cluster.Nodes)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(n.Spec.PgpassPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(n.ConfigPath));
        }

        // The config key, GET /config and show-config hold no local credentials.
        var dcs = await cluster.ReadDcsAsync();
        var (_, config) = await AgentCluster.GetAsync($"{cluster.Nodes[0].RestUrl}/config");
        var (_, showConfig) = Scenario.Pgwarden("show-config", "-c", cluster.Nodes[0].ConfigPath);
        foreach (var s in secrets)
        {
            Assert.DoesNotContain(s, dcs["config"], StringComparison.Ordinal);
            Assert.DoesNotContain(s, config, StringComparison.Ordinal);
            Assert.DoesNotContain(s, showConfig, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("authentication", dcs["config"], StringComparison.Ordinal);

        // The agents' logs (and their PostgreSQL logs) never print a password.
        foreach (var n in cluster.Nodes)
        {
            var log = n.Agent!.Output;
            foreach (var s in secrets) Assert.DoesNotContain(s, log, StringComparison.Ordinal);
        }
        output.WriteLine(showConfig);
    }
}
