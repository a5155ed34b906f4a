using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// Real etcd members on the given loopback addresses (client port 2379, peer port 2380), with fast election
/// settings. Every process started here is killed on dispose and, as a last resort, when the test process exits.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static EtcdCluster()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Live.Values) TryKill(p);
        };
    }

    private readonly IReadOnlyList<string> ips;
    private readonly string dataDir;
    private readonly Process?[] processes;
    private readonly ConcurrentQueue<string>[] logs;
    private readonly string initialCluster;

    private readonly bool enableV2;

    private EtcdCluster(IReadOnlyList<string> ips, string dataDir, bool enableV2)
    {
        this.enableV2 = enableV2;
        this.ips = ips;
        this.dataDir = dataDir;
        processes = new Process?[ips.Count];
        logs = new ConcurrentQueue<string>[ips.Count];
        initialCluster = string.Join(",", ips.Select((ip, i) => $"{Name(i)}=http://{ip}:2380"));
    }

    /// <summary>"IP:2379" for each member.</summary>
    public IReadOnlyList<string> Endpoints => ips.Select(ip => $"{ip}:2379").ToList();

    public int Count => ips.Count;

    /// <summary>Whether member index was started and not killed since.</summary>
    public bool IsRunning(int index) => processes[index] is { HasExited: false };

    /// <summary>enableV2: also serve etcd's v2 keys API (--enable-v2), for the etcd: section.</summary>
    public static async Task<EtcdCluster> StartAsync(IReadOnlyList<string> ips, string dataRoot, CancellationToken ct, bool enableV2 = false)
    {
        var dir = Path.Combine(dataRoot, "etcd-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var cluster = new EtcdCluster(ips, dir, enableV2);
        try
        {
            for (var i = 0; i < ips.Count; i++) cluster.Launch(i, "new");
            await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(20), ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static string Name(int i) => $"e{i + 1}";

    private void Launch(int i, string state)
    {
        var ip = ips[i];
        var psi = new ProcessStartInfo("etcd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--name", Name(i), "--data-dir", Path.Combine(dataDir, Name(i)),
                     "--listen-client-urls", $"http://{ip}:2379", "--advertise-client-urls", $"http://{ip}:2379",
                     "--listen-peer-urls", $"http://{ip}:2380", "--initial-advertise-peer-urls", $"http://{ip}:2380",
                     "--initial-cluster", initialCluster, "--initial-cluster-state", state,
                     "--initial-cluster-token", Path.GetFileName(dataDir),
                     "--heartbeat-interval", "100", "--election-timeout", "1000",
                     "--log-level", "error",
                 })
        {
            psi.ArgumentList.Add(a);
        }
        if (enableV2) psi.ArgumentList.Add("--enable-v2=true");
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start etcd");
        // Drain the pipes so etcd never blocks on a full pipe.
        var log = logs[i] = new ConcurrentQueue<string>();
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is null) return;
            log.Enqueue(e.Data);
            while (log.Count > 20 && log.TryDequeue(out string? _)) { }
        };
        p.OutputDataReceived += keep;
        p.ErrorDataReceived += keep;
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        processes[i] = p;
        Live[p.Id] = p;
    }

    /// <summary>Waits until every running member answers GET /health with "true".</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = DateTime.UtcNow + timeout;
        for (var i = 0; i < ips.Count; i++)
        {
            if (processes[i] is null) continue;
            while (true)
            {
                if (processes[i]!.HasExited)
                    throw new InvalidOperationException(
                        $"etcd {Name(i)} on {ips[i]} exited with {processes[i]!.ExitCode}: {string.Join(" | ", logs[i])}");
                try
                {
                    var body = await http.GetStringAsync($"http://{ips[i]}:2379/health", ct);
                    if (body.Contains("\"true\"", StringComparison.Ordinal)) break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"etcd {Name(i)} on {ips[i]} not healthy after {timeout}");
                await Task.Delay(100, ct);
            }
        }
    }

    public void Kill(int index)
    {
        if (processes[index] is { } p)
        {
            TryKill(p);
            Live.TryRemove(p.Id, out _);
            p.Dispose();
            processes[index] = null;
        }
    }

    /// <summary>SIGSTOP: the member keeps its sockets but answers nothing (a hung server).</summary>
    public void Stop(int index) => Signal(index, "STOP");

    public void Cont(int index) => Signal(index, "CONT");

    /// <summary>Kills a member and starts it again on its existing data.</summary>
    public async Task RestartAsync(int index, CancellationToken ct)
    {
        Kill(index);
        await WaitPortFreeAsync(ips[index], 2379, ct);
        Launch(index, "existing");
    }

    public Task Restart(int index) => RestartAsync(index, CancellationToken.None);

    private static async Task WaitPortFreeAsync(string ip, int port, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(ip, port, ct);
            }
            catch (SocketException)
            {
                return;
            }
            await Task.Delay(50, ct);
        }
    }

    private void Signal(int index, string signal)
    {
        var p = processes[index] ?? throw new InvalidOperationException($"etcd {Name(index)} is not running");
        using var kill = Process.Start("kill", ["-" + signal, p.Id.ToString()]);
        kill.WaitForExit();
    }

    private static void TryKill(Process p)
    {
        try
        {
            if (p.HasExited) return;
            // A stopped process must be continued to die promptly from SIGTERM; SIGKILL works regardless.
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < processes.Length; i++) Kill(i);
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
