using System.Diagnostics;
using Npgsql;

namespace PgWarden.Lab;

/// <summary>
/// The demo's client load: a writer inserting one row every 20 ms through HAProxy's read-write port and,
/// optionally, a reader through the read-only port, each reconnecting after any error (as an application with a
/// retry loop would). It measures the longest time between two successful writes (reads): what users notice of a
/// switchover or failover.
/// </summary>
public sealed class LoadGenerator : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stop = new();
    private readonly Task writer;
    private readonly Task reader;
    private readonly Loop writes = new();
    private readonly Loop reads = new();

    private sealed class Loop
    {
        public long Ok;
        public long Failed;
        public TimeSpan Last = TimeSpan.Zero;
        public TimeSpan MaxGap = TimeSpan.Zero;
        public bool Started;
    }

    public sealed record Report(long Writes, long FailedWrites, long WriteGapMs, long Reads, long FailedReads, long ReadGapMs)
    {
        public override string ToString() =>
            $"writer: {Writes} writes, {FailedWrites} failed, longest gap between two successful writes {WriteGapMs} ms" +
            (Reads + FailedReads > 0 ? $"; reader: {Reads} reads, {FailedReads} failed, longest gap {ReadGapMs} ms" : "");
    }

    private LoadGenerator(string rw, string? ro)
    {
        writer = Task.Run(() => RunAsync(rw, "INSERT INTO writes DEFAULT VALUES", writes));
        reader = ro is null ? Task.CompletedTask : Task.Run(() => RunAsync(ro, "SELECT count(*) FROM items", reads));
    }

    public static LoadGenerator Start(string rwConnString, string? roConnString) => new(rwConnString, roConnString);

    public TimeSpan Elapsed => clock.Elapsed;

    public TimeSpan LastWriteAt
    {
        get { lock (writes) return writes.Last; }
    }

    public async Task<Report> StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(writer, reader);
        lock (writes) lock (reads)
            return new Report(writes.Ok, writes.Failed, (long)writes.MaxGap.TotalMilliseconds, reads.Ok, reads.Failed, (long)reads.MaxGap.TotalMilliseconds);
    }

    private async Task RunAsync(string connString, string sql, Loop loop)
    {
        var ct = stop.Token;
        NpgsqlConnection? conn = null;
        while (!ct.IsCancellationRequested)
        {
            var began = clock.Elapsed;
            try
            {
                if (conn is null)
                {
                    conn = new NpgsqlConnection(connString);
                    await conn.OpenAsync(ct);
                }
                await using (var cmd = new NpgsqlCommand(sql, conn)) await cmd.ExecuteNonQueryAsync(ct);
                lock (loop)
                {
                    var now = clock.Elapsed;
                    if (loop.Started && now - loop.Last > loop.MaxGap) loop.MaxGap = now - loop.Last;
                    loop.Last = now;
                    loop.Started = true;
                    loop.Ok++;
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
            {
                lock (loop) loop.Failed++;
                if (conn is not null) await conn.DisposeAsync();
                conn = null;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            var wait = Interval - (clock.Elapsed - began);
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait, ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        if (conn is not null) await conn.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!stop.IsCancellationRequested) await StopAsync();
        stop.Dispose();
    }
}
