using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// A client that inserts unique ids through whichever node is the writable primary, every ~20 ms, and records
/// which inserts were acknowledged (COMMIT returned) and when. On any error it looks for the primary again over
/// fresh connections. Afterwards: which acknowledged ids a node lacks, and the longest gap between two acks.
/// </summary>
public sealed class WriteProbe : IAsyncDisposable
{
    public const string Table = "pgwarden_write_probe";
    private readonly AgentCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, TimeSpan> _acked = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, string Node)> _primaryChanges = [];
    private Task? _run;
    private long _next;
    private volatile bool _syncWaitCancelled;

    private int _unconfirmed;

    /// <summary>The client-side limit on one INSERT: longer than any fault plus the suite's 120 s convergence deadline.</summary>
    public const int CommitTimeoutSeconds = 150;

    /// <summary>
    /// Commits PostgreSQL returned with "canceling wait for synchronous replication": committed locally but, as the
    /// server says, maybe not replicated, so they are not counted as acknowledged. The probe does not cancel a commit
    /// (its command timeout outlasts every fault: a commit waiting for the synchronous standby is exactly what strict mode is about);
    /// this only happens when the probe is stopped while a commit waits, or someone else cancels the backend.
    /// </summary>
    public int UnconfirmedCommits => Volatile.Read(ref _unconfirmed);

    private static long s_probes;
    private readonly long _base;

    /// <summary>
    /// client: several probes write to one table; client k uses ids from k*10^9, and every probe of the process gets
    /// its own block of 10^6 ids within that, so probes of tests sharing one cluster and table never collide.
    /// </summary>
    public WriteProbe(AgentCluster cluster, int client = 0)
    {
        _cluster = cluster;
        _base = client * 1_000_000_000L + Interlocked.Increment(ref s_probes) % 1000 * 1_000_000L;
        _next = _base;
    }

    public IReadOnlyCollection<long> Acknowledged => [.. _acked.Keys];

    /// <summary>The last error an insert or the search for the primary met (null while all went well).</summary>
    public string? LastError { get; private set; }

    /// <summary>Waits for more than <paramref name="count"/> acknowledged inserts; a timeout names the last error.</summary>
    public async Task WaitForAcksAsync(int count, TimeSpan deadline, string what)
    {
        try { await Wait.UntilAsync(() => _acked.Count > count, deadline, what); }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}: {_acked.Count} acknowledged of {Attempts} attempts; last error: {LastError ?? "none"}", e);
        }
    }
    public int Attempts => (int)(Interlocked.Read(ref _next) - _base);

    /// <summary>Waits for a healthy cluster and creates the write probe's and the split-brain checker's tables on its leader.</summary>
    public static async Task PrepareClusterAsync(AgentCluster cluster)
    {
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var leader = cluster.Node((await cluster.LeaderAsync())!);
        await CreateTableAsync(leader);
        await SplitBrainChecker.CreateTableAsync(leader);
    }

    public static async Task CreateTableAsync(ClusterNode primary)
    {
        await using var conn = primary.Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {Table} (id bigint PRIMARY KEY, at timestamptz DEFAULT now())", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken ct)
    {
        NpgsqlConnection? conn = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (conn is null)
                {
                    conn = await FindPrimaryAsync(ct);
                    if (conn is not null)
                        conn.Notice += (_, e) =>
                        {
                            if (e.Notice.MessageText.Contains("wait for synchronous replication", StringComparison.Ordinal)) _syncWaitCancelled = true;
                        };
                    if (conn is null)
                    {
                        LastError ??= "no node answered as a writable primary";
                        await Task.Delay(50, ct);
                        continue;
                    }
                }
                var id = Interlocked.Increment(ref _next);
                _syncWaitCancelled = false;
                // Wait as long as the server makes the commit wait (CommitTimeout outlasts every fault and its
                // convergence). A 3 s timeout used to cancel commits stuck on the sync standby while the primary was
                // cut off; PostgreSQL then returns success with a WARNING although the row exists only on the old
                // primary (the seed 22775 "lost" acknowledged insert).
                await using (var cmd = new NpgsqlCommand($"INSERT INTO {Table}(id) VALUES ($1)", conn) { CommandTimeout = CommitTimeoutSeconds })
                {
                    cmd.Parameters.AddWithValue(id);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                if (_syncWaitCancelled)
                {
                    _syncWaitCancelled = false;
                    Interlocked.Increment(ref _unconfirmed);
                    LastError = $"{DateTime.UtcNow:HH:mm:ss.fff} insert {id}: commit returned with 'canceling wait for synchronous replication' (not counted as acknowledged)";
                    continue;
                }
                _acked[id] = _clock.Elapsed;
                await Task.Delay(20, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                LastError = $"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name}: {e.Message}";
                if (conn is not null) { try { await conn.DisposeAsync(); } catch (Exception) { } }
                conn = null;
            }
        }
        if (conn is not null) await conn.DisposeAsync();
    }

    private async Task<NpgsqlConnection?> FindPrimaryAsync(CancellationToken ct)
    {
        foreach (var node in _cluster.Nodes)
        {
            var conn = node.Connect();
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(TimeSpan.FromSeconds(1));
                await conn.OpenAsync(cts.Token);
                await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn);
                if (await cmd.ExecuteScalarAsync(cts.Token) is false)
                {
                    lock (_primaryChanges) _primaryChanges.Add((_clock.Elapsed, node.Name));
                    return conn;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LastError = $"{DateTime.UtcNow:HH:mm:ss.fff} {node.Name}: {e.GetType().Name}: {e.Message}";
            }
            await conn.DisposeAsync();
        }
        return null;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null) await _run;
    }

    /// <summary>When (probe clock) each of these ids was acknowledged, for the ids this probe acknowledged.</summary>
    public IEnumerable<(long Id, TimeSpan At)> AcknowledgedAt(IEnumerable<long> ids)
    {
        foreach (var id in ids) if (_acked.TryGetValue(id, out var at)) yield return (id, at);
    }

    /// <summary>The longest time between two consecutive acknowledged inserts (the write outage seen by a client).</summary>
    public TimeSpan LongestGap()
    {
        var times = _acked.Values.OrderBy(t => t).ToList();
        var gap = TimeSpan.Zero;
        for (var i = 1; i < times.Count; i++) if (times[i] - times[i - 1] > gap) gap = times[i] - times[i - 1];
        return gap;
    }

    /// <summary>Acknowledged ids the node does not have.</summary>
    public async Task<IReadOnlyList<long>> MissingOnAsync(ClusterNode node)
    {
        // Snapshot first: an insert acknowledged while the SELECT runs must not count as missing.
        var acked = _acked.Keys.ToList();
        await using var conn = node.Connect();
        await conn.OpenAsync();
        var present = new HashSet<long>();
        await using (var cmd = new NpgsqlCommand($"SELECT id FROM {Table}", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) present.Add(reader.GetInt64(0));
        }
        return [.. acked.Where(id => !present.Contains(id)).OrderBy(id => id)];
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
