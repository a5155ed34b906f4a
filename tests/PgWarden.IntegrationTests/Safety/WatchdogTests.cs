using System.Diagnostics;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Safety;

/// <summary>
/// The watchdog with a stand-in device (a regular file the test creates, no kernel module): keepalives written while
/// the node is the primary, the magic close 'V' on pause (keepalives again after resume) and on shutdown, and a node whose required watchdog cannot be opened
/// never becomes primary (REST watchdog_failed: true).
/// </summary>
public sealed class WatchdogTests(ITestOutputHelper output)
{
    /// <summary>Polls the stand-in device every 100 ms and records when it grew (one keepalive or more per growth).</summary>
    private sealed class DeviceReader : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public List<(TimeSpan At, long Size)> Growth { get; } = [];

        public DeviceReader(string path)
        {
            var sw = Stopwatch.StartNew();
            _loop = Task.Run(async () =>
            {
                long last = 0;
                while (!_stop.IsCancellationRequested)
                {
                    var size = new FileInfo(path).Length;
                    if (size != last) { lock (Growth) Growth.Add((sw.Elapsed, size)); last = size; }
                    try { await Task.Delay(100, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public int Count { get { lock (Growth) return Growth.Count; } }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Keepalives_magic_close_and_a_required_watchdog_that_cannot_open_never_runs_a_primary()
    {
        var deviceDir = Path.Combine("/var/tmp/pgwarden-it", $"wd-{Guid.NewGuid():N}"[..11]);
        Directory.CreateDirectory(deviceDir);
        File.SetUnixFileMode(deviceDir, (UnixFileMode)0b111_101_101);
        using var removeDevice = new DeletesDirectory(deviceDir); // declared before the cluster: removed after it stops
        var device = Path.Combine(deviceDir, "watchdog1");
        File.WriteAllBytes(device, []);
        OsUser.Chown(device, AgentCluster.NodeUser(1));
        await using var cluster = await AgentCluster.StartAsync("itwd", 2, extraYamlFor: i => i == 1
            ? $"watchdog:\n  mode: automatic\n  device: {device}\n  safety_margin: 5\n"
            : "watchdog:\n  mode: required\n  device: /nonexistent/watchdog\n");
        using var dump = new LogDump(output, cluster);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var node1 = cluster.Node("node1");
        var node2 = cluster.Node("node2");
        Assert.Equal("node1", await cluster.LeaderAsync());

        await using (var reader = new DeviceReader(device))
        {
            await Wait.UntilAsync(() => reader.Count >= 4, TimeSpan.FromSeconds(30), "4 keepalives on the stand-in device");
            lock (reader.Growth)
                output.WriteLine("keepalives (time, device size): " + string.Join(", ", reader.Growth.Select(g => $"{g.At.TotalSeconds:F1}s={g.Size}")));
        }
        Assert.DoesNotContain((byte)'V', File.ReadAllBytes(device));
        var status2 = await SafetyHelpers.PatroniAsync(node2);
        output.WriteLine($"node2 /patroni: {status2.ToJsonString()}");
        Assert.True(status2["watchdog_failed"]?.GetValue<bool>() == true, "node2 must report watchdog_failed");
        using (var http = new HttpClient())
        {
            using var off = await http.PostAsync($"{node2.RestUrl}/failsafe", new StringContent("""{"name":"node1"}"""));
            Assert.Equal(502, (int)off.StatusCode); // failsafe_mode is off in this cluster
        }

        // Pause (maintenance mode): the agent stops guarding PostgreSQL, so it disarms the watchdog with the magic close;
        // resume arms it again and keepalives follow.
        var (code, text) = Scenario.Pgwarden("pause", "-c", node1.ConfigPath, "--wait");
        Assert.True(code == 0, text);
        await Wait.UntilAsync(() => File.ReadAllBytes(device) is { Length: > 0 } b && b[^1] == (byte)'V', TimeSpan.FromSeconds(15), "the magic close on pause");
        // While paused it stays disarmed: nothing is written for two loops (the stand-in is emptied to see it; the
        // agent reopens the device at offset 0 when it arms it again).
        File.WriteAllBytes(device, []);
        var hold = Stopwatch.StartNew();
        while (hold.Elapsed < TimeSpan.FromSeconds(2 * cluster.Spec.LoopWait + 1))
        {
            Assert.True(new FileInfo(device).Length == 0, $"the paused agent wrote to the watchdog after {hold.Elapsed.TotalSeconds:F1} s");
            await Task.Delay(200);
        }
        (code, text) = Scenario.Pgwarden("resume", "-c", node1.ConfigPath, "--wait");
        Assert.True(code == 0, text);
        await Wait.UntilAsync(() => new FileInfo(device).Length >= 2, TimeSpan.FromSeconds(15), "the watchdog armed and kept alive again after resume");
        output.WriteLine($"pause: magic close, then nothing written for {hold.Elapsed.TotalSeconds:F0} s; resume: armed and kept alive again");

        // Clean shutdown of the primary's agent: PostgreSQL stops, the watchdog gets the magic close, the lock is released.
        var sw = Stopwatch.StartNew();
        node1.Agent!.Signal("TERM");
        Assert.True(await node1.Agent.WaitForExitAsync(TimeSpan.FromSeconds(60)), "node1's agent did not exit on SIGTERM");
        var bytes = File.ReadAllBytes(device);
        output.WriteLine($"device after shutdown: {bytes.Length} bytes, last '{(char)bytes[^1]}'");
        Assert.Equal((byte)'V', bytes[^1]);

        // node2 may not become primary: it never opens its required watchdog, so it never takes the lock.
        var deadline = TimeSpan.FromSeconds(30);
        while (sw.Elapsed < deadline)
        {
            Assert.False(await SafetyHelpers.IsWritablePrimaryAsync(node2), "node2 became primary without its required watchdog");
            Assert.NotEqual("node2", await cluster.LeaderAsync());
            await Task.Delay(500);
        }
        var log = node2.Agent!.Output;
        output.WriteLine($"node2 stayed a replica for {deadline.TotalSeconds:0} s after the leader left; its last decision: " +
                         (await SafetyHelpers.PatroniAsync(node2)).ToJsonString());
        Assert.Contains("required watchdog cannot be used", log);
        dump.Passed();
    }

    private sealed class DeletesDirectory(string path) : IDisposable
    {
        public void Dispose()
        {
            try { Directory.Delete(path, recursive: true); } catch (IOException) { }
        }
    }
}
