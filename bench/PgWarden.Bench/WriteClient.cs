using Npgsql;

namespace PgWarden.Bench;

/// <summary>An acknowledged write: its sequence number, when the commit came back, and which server took it.</summary>
public sealed record Ack(int Seq, double At, string Server);

/// <summary>
/// The application users feel: one INSERT every 20 ms through one path (HAProxy or a multi-host connection
/// string), reconnecting after any error, recording every acknowledged write. Gaps and lost writes are computed
/// from these records afterwards.
/// </summary>
public sealed class WriteClient(string path, string connectionString, string run)
{
    public const string Table = "bench_writes";
    private readonly List<Ack> _acks = [];
    private int _seq;

    public string Path => path;
    public IReadOnlyList<Ack> Acks { get { lock (_acks) return _acks.ToList(); } }

    public static async Task CreateTableAsync(string leaderConnectionString, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(leaderConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"create table if not exists {Table} (run text not null, path text not null, seq int not null)", conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        NpgsqlConnection? conn = null;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var seq = ++_seq;
                try
                {
                    if (conn is null)
                    {
                        conn = new NpgsqlConnection(connectionString);
                        await conn.OpenAsync(ct);
                    }
                    await using var cmd = new NpgsqlCommand($"insert into {Table} (run, path, seq) values (@r, @p, @s) returning host(inet_server_addr())", conn);
                    cmd.Parameters.AddWithValue("r", run);
                    cmd.Parameters.AddWithValue("p", path);
                    cmd.Parameters.AddWithValue("s", seq);
                    var server = (string?)await cmd.ExecuteScalarAsync(ct) ?? "?";
                    lock (_acks) _acks.Add(new Ack(seq, Clock.Now, server));
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException or System.Net.Sockets.SocketException)
                {
                    if (conn is not null) await conn.DisposeAsync();
                    conn = null;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (conn is not null) await conn.DisposeAsync();
        }
    }

    /// <summary>Longest time between two consecutive acknowledged writes in [from, to].</summary>
    public double LongestGap(double from, double to)
    {
        var times = Acks.Where(a => a.At >= from && a.At <= to).Select(a => a.At).ToList();
        var gap = 0.0;
        for (var i = 1; i < times.Count; i++) gap = Math.Max(gap, times[i] - times[i - 1]);
        return gap;
    }

    /// <summary>Acknowledged writes that the (new) leader does not have.</summary>
    public async Task<int> LostAsync(string leaderConnectionString, CancellationToken ct)
    {
        var present = new HashSet<int>();
        await using var conn = new NpgsqlConnection(leaderConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"select seq from {Table} where run = @r and path = @p", conn);
        cmd.Parameters.AddWithValue("r", run);
        cmd.Parameters.AddWithValue("p", path);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) present.Add(reader.GetInt32(0));
        return Acks.Count(a => !present.Contains(a.Seq));
    }
}
