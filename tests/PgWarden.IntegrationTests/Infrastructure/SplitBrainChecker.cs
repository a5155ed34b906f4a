using System.Diagnostics;
using Npgsql;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// Every 100 ms opens a fresh connection to every node and tries an insert; records each round in which more
/// than one node accepted a write. Fresh connections matter: a held connection can keep writing to a primary whose
/// postmaster no longer accepts new ones (patroni#1371).
/// </summary>
public sealed class SplitBrainChecker : IAsyncDisposable
{
    public const string Table = "pgwarden_split_brain";
    private readonly AgentCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, string[] Writable)> _violations = [];
    private readonly Dictionary<string, int> _accepted = [];
    private readonly Dictionary<string, List<TimeSpan>> _acceptedAt = [];
    private Task? _run;

    public SplitBrainChecker(AgentCluster cluster) => _cluster = cluster;

    public int Rounds { get; private set; }
    /// <summary>The checker's clock, for callers that relate their own events to its rounds.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// Violating rounds merged into windows: consecutive violating rounds (no clean round between them) are one window
    /// during which two nodes accepted writes in overlapping intervals.
    /// </summary>
    public IReadOnlyList<(TimeSpan From, TimeSpan To, string[] Writable)> Windows()
    {
        var windows = new List<(TimeSpan From, TimeSpan To, string[] Writable)>();
        lock (_violations)
        {
            foreach (var (at, writable) in _violations)
            {
                if (windows.Count > 0 && CleanRoundsBetween(windows[^1].To, at) == 0)
                    windows[^1] = (windows[^1].From, at, [.. windows[^1].Writable.Union(writable).Order()]);
                else windows.Add((at, at, writable));
            }
        }
        return windows;
    }

    private readonly List<TimeSpan> _cleanRounds = [];

    private int CleanRoundsBetween(TimeSpan from, TimeSpan to)
    {
        lock (_cleanRounds) return _cleanRounds.Count(t => t > from && t < to);
    }
    public IReadOnlyList<(TimeSpan At, string[] Writable)> Violations { get { lock (_violations) return [.. _violations]; } }
    public IReadOnlyDictionary<string, int> AcceptedPerNode { get { lock (_accepted) return new Dictionary<string, int>(_accepted); } }

    /// <summary>Start times (checker clock) of the rounds in which the node accepted a write.</summary>
    public IReadOnlyList<TimeSpan> AcceptedAt(string node)
    {
        lock (_accepted) return _acceptedAt.TryGetValue(node, out var times) ? [.. times] : [];
    }

    public static async Task CreateTableAsync(ClusterNode primary)
    {
        await using var conn = primary.Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {Table} (node text, at timestamptz DEFAULT now())", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var round = _clock.Elapsed;
            var results = await Task.WhenAll(_cluster.Nodes.Select(n => AcceptsWriteAsync(n, ct)));
            var writable = _cluster.Nodes.Where((n, i) => results[i]).Select(n => n.Name).ToArray();
            Rounds++;
            lock (_accepted)
            {
                foreach (var w in writable)
                {
                    _accepted[w] = _accepted.GetValueOrDefault(w) + 1;
                    (_acceptedAt.TryGetValue(w, out var times) ? times : _acceptedAt[w] = []).Add(round);
                }
            }
            if (writable.Length > 1) lock (_violations) _violations.Add((round, writable));
            else lock (_cleanRounds) _cleanRounds.Add(round);
            var wait = TimeSpan.FromMilliseconds(100) - (_clock.Elapsed - round);
            try { if (wait > TimeSpan.Zero) await Task.Delay(wait, ct); }
            catch (OperationCanceledException) { break; }
        }
    }

    private static async Task<bool> AcceptsWriteAsync(ClusterNode node, CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            await using var conn = node.Connect();
            await conn.OpenAsync(cts.Token);
            await using var cmd = new NpgsqlCommand($"INSERT INTO {Table}(node) VALUES ($1)", conn);
            cmd.Parameters.AddWithValue(node.Name);
            await cmd.ExecuteNonQueryAsync(cts.Token);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null) await _run;
        _stop.Dispose();
    }
}
