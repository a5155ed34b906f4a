using System.Net.Sockets;

namespace PgWarden.Postgres;

/// <summary>
/// The liveness check's cheap question to a postmaster: connect and send an SSLRequest; a backend the postmaster
/// forked for us answers 'S' or 'N' (or 'E' for an old server). That proves the postmaster accepts and forks
/// (what a hung-but-alive postmaster, patroni#1371, does not) without a login: no SCRAM key derivation, no
/// Kerberos credential probe, no session. Closing right after an 'N' is what PostgreSQL expects from monitoring
/// and logs nothing ("If we get no data at all, don't clutter the log", postmaster.c); after an 'S' the server
/// would log a failed TLS handshake, so a server with ssl on gets the full login check instead (the caller's).
/// Hangs past the login (locks in shared memory) are the HA loop's probe's to find: it runs SQL every cycle.
/// </summary>
public static class PostmasterProbe
{
    // Int32 length 8, Int32 80877103 (the SSLRequest code), big-endian.
    private static readonly byte[] SslRequest = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F];

    /// <summary>The server's one-byte answer to an SSLRequest ('N', 'S' or 'E'), or null when none came within the timeout.</summary>
    public static async Task<char?> AnswerAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.NoDelay = true;
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            await socket.SendAsync(SslRequest, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var answer = new byte[1];
            var read = await socket.ReceiveAsync(answer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            return read == 1 && answer[0] is (byte)'S' or (byte)'N' or (byte)'E' ? (char)answer[0] : null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            ct.ThrowIfCancellationRequested();
            return null;
        }
    }
}
