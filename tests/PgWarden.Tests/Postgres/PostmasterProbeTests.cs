using System.Net;
using System.Net.Sockets;
using Npgsql;
using PgWarden.Config;
using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public class PostmasterProbeTests
{
    [Theory]
    [InlineData((byte)'N', 'N')]
    [InlineData((byte)'S', 'S')]
    [InlineData((byte)'E', 'E')]
    [InlineData((byte)'X', null)]
    public async Task The_answer_to_an_SSLRequest_is_returned(byte reply, char? expected)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new byte[8];
            await stream.ReadExactlyAsync(request);
            Assert.Equal(new byte[] { 0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F }, request);
            await stream.WriteAsync(new[] { reply });
            await stream.FlushAsync();
            // Wait for the probe to hang up, as PostgreSQL would.
            _ = await stream.ReadAsync(new byte[1]);
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var answer = await PostmasterProbe.AnswerAsync("127.0.0.1", port, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(expected, answer);
        await server.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_answers_gives_null_at_the_timeout()
    {
        // The kernel completes the handshake from the listen backlog even when nobody accepts: a stopped postmaster.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var started = DateTime.UtcNow;

        var answer = await PostmasterProbe.AnswerAsync("127.0.0.1", port, TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Null(answer);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "the timeout bounds the probe");
    }

    [Fact]
    public async Task A_closed_port_gives_null()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        Assert.Null(await PostmasterProbe.AnswerAsync("127.0.0.1", port, TimeSpan.FromSeconds(2), CancellationToken.None));
    }

    [Theory]
    [InlineData(null, GssEncryptionMode.Disable)]
    [InlineData("prefer", GssEncryptionMode.Prefer)]
    [InlineData("require", GssEncryptionMode.Require)]
    [InlineData("disable", GssEncryptionMode.Disable)]
    public void Local_connections_use_gss_encryption_only_when_configured(string? gssencmode, GssEncryptionMode expected)
    {
        var user = new PgUser
        {
            Username = "postgres",
            OtherParameters = gssencmode is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["gssencmode"] = gssencmode },
        };
        Assert.Equal(expected, LocalConnections.GssEncryptionModeOf(user));
    }
}
