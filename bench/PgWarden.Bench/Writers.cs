namespace PgWarden.Bench;

/// <summary>The two write clients of a scenario (HAProxy, multi-host string), started together and waited on until both write.</summary>
public sealed class Writers : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly Task[] _tasks;

    public WriteClient Haproxy { get; }
    public WriteClient MultiHost { get; }

    private Writers(BenchCluster cluster, string run)
    {
        Haproxy = new WriteClient("haproxy", cluster.HaproxyConnectionString, run);
        MultiHost = new WriteClient("multihost", cluster.MultiHostConnectionString, run);
        _tasks = [Task.Run(() => Haproxy.RunAsync(_cts.Token)), Task.Run(() => MultiHost.RunAsync(_cts.Token))];
    }

    public static async Task<Writers> StartAsync(BenchCluster cluster, string run, CancellationToken ct)
    {
        var w = new Writers(cluster, run);
        await Poll.UntilAsync(() => Task.FromResult(w.Haproxy.Acks.Count >= 25 && w.MultiHost.Acks.Count >= 25), TimeSpan.FromSeconds(30),
            "both write clients to be writing", ct);
        return w;
    }

    public bool BothAckedBy(string address, double after) =>
        Haproxy.Acks.Any(a => a.At > after && a.Server == address) && MultiHost.Acks.Any(a => a.At > after && a.Server == address);

    public bool BothAckedByOtherThan(string address, double after) =>
        Haproxy.Acks.Any(a => a.At > after && a.Server != address) && MultiHost.Acks.Any(a => a.At > after && a.Server != address);

    public async Task StopAsync()
    {
        if (!_cts.IsCancellationRequested) await _cts.CancelAsync();
        await Task.WhenAll(_tasks);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _cts.Dispose();
    }
}
