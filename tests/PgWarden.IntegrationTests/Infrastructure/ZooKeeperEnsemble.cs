using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using PgWarden.Lab;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// Real ZooKeeper 3.8 servers (Debian's jar, run in the foreground with a zoo.cfg of our own written by
/// <see cref="ZooKeeperServerSpec"/>) on the given loopback addresses, client port 2181. One address: a standalone
/// server; three: an ensemble. Every server is killed on dispose and, as a last resort, when the test process exits.
/// </summary>
public sealed class ZooKeeperEnsemble : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static ZooKeeperEnsemble()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Live.Values) TryKill(p);
        };
    }

    private readonly ZooKeeperServerSpec spec;
    private readonly Process?[] processes;

    private ZooKeeperEnsemble(ZooKeeperServerSpec spec)
    {
        this.spec = spec;
        processes = new Process?[spec.Addresses.Count];
    }

    /// <summary>"IP:2181" of each server.</summary>
    public IReadOnlyList<string> Hosts => spec.Hosts;

    public int Count => processes.Length;

    public static async Task<ZooKeeperEnsemble> StartAsync(IReadOnlyList<string> ips, string dataRoot, CancellationToken ct)
    {
        var spec = new ZooKeeperServerSpec(ips, Path.Combine(dataRoot, "zk-" + Guid.NewGuid().ToString("N")[..8]));
        if (!spec.Installed) throw new InvalidOperationException($"ZooKeeper is not installed ({ZooKeeperServerSpec.Jar} missing): apt-get install zookeeper");
        var ensemble = new ZooKeeperEnsemble(spec);
        try
        {
            for (var i = 0; i < ips.Count; i++) ensemble.Launch(i);
            await ensemble.WaitServingAsync(TimeSpan.FromSeconds(60), ct);
            return ensemble;
        }
        catch
        {
            await ensemble.DisposeAsync();
            throw;
        }
    }

    private void Launch(int i)
    {
        var command = spec.Prepare(i);
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start java for ZooKeeper");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        processes[i] = p;
        Live[p.Id] = p;
    }

    /// <summary>The four-letter "srvr" answer of one server ("" when it does not answer).</summary>
    public async Task<string> SrvrAsync(int index, CancellationToken ct = default)
    {
        try
        {
            using var client = new TcpClient();
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(spec.Addresses[index], spec.ClientPort, bounded.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("srvr"u8.ToArray(), bounded.Token);
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(bounded.Token);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return "";
        }
    }

    /// <summary>Until every running server serves clients (standalone, or leader/follower of a quorum).</summary>
    public async Task WaitServingAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var i = 0; i < processes.Length; i++)
        {
            if (processes[i] is null) continue;
            while (true)
            {
                if (processes[i]!.HasExited) throw new InvalidOperationException($"ZooKeeper {i + 1} on {spec.Addresses[i]} exited with {processes[i]!.ExitCode}");
                var srvr = await SrvrAsync(i, ct);
                if (srvr.Contains("Mode: standalone", StringComparison.Ordinal) || srvr.Contains("Mode: leader", StringComparison.Ordinal)
                    || srvr.Contains("Mode: follower", StringComparison.Ordinal)) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"ZooKeeper {i + 1} on {spec.Addresses[i]} not serving after {timeout}");
                await Task.Delay(200, ct);
            }
        }
    }

    /// <summary>Index of the server that is the quorum leader (or the standalone server), -1 if none answers.</summary>
    public async Task<int> LeaderIndexAsync()
    {
        for (var i = 0; i < processes.Length; i++)
        {
            if (processes[i] is null) continue;
            var srvr = await SrvrAsync(i);
            if (srvr.Contains("Mode: leader", StringComparison.Ordinal) || srvr.Contains("Mode: standalone", StringComparison.Ordinal)) return i;
        }
        return -1;
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

    /// <summary>Starts a killed server again on its data directory.</summary>
    public void Start(int index)
    {
        if (processes[index] is not null) throw new InvalidOperationException($"ZooKeeper {index + 1} is running");
        Launch(index);
    }

    private static void TryKill(Process p)
    {
        try
        {
            if (p.HasExited) return;
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
            Directory.Delete(spec.DataRoot, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
