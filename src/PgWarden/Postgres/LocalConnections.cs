using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>
/// Superuser connections to the local server over TCP (first listen host): a small pool for the probe and
/// one-off fresh connections for the liveness check. Every use is bounded so a hung server cannot hang callers.
/// </summary>
internal sealed class LocalConnections : IAsyncDisposable
{
    private readonly NpgsqlDataSource _pooled;
    private readonly NpgsqlConnectionStringBuilder _fresh;

    public LocalConnections(AgentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var listen = ListenAddress.Parse(config.Postgresql.Listen);
        var su = config.Postgresql.Authentication.Superuser;
        var pooled = new NpgsqlConnectionStringBuilder
        {
            Host = listen.LocalHost,
            Port = listen.Port,
            Username = su.Username,
            Password = su.Password,
            Database = config.Postgresql.Database,
            ApplicationName = "pgwarden",
            Timeout = 2,
            CommandTimeout = 2,
            CancellationTimeout = 500,
            Pooling = true,
            MinPoolSize = 0,
            MaxPoolSize = 3,
            ConnectionIdleLifetime = 60,
            SslMode = SslMode.Prefer,
        };
        if (su.SslMode is { } mode && Enum.TryParse<SslMode>(mode.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var parsed))
            pooled.SslMode = parsed;
        pooled.GssEncryptionMode = GssEncryptionModeOf(su);
        _pooled = NpgsqlDataSource.Create(pooled);
        _fresh = new NpgsqlConnectionStringBuilder(pooled.ConnectionString) { Pooling = false, Timeout = 1, CommandTimeout = 1 };
    }

    public NpgsqlDataSource Pooled => _pooled;

    /// <summary>
    /// The superuser's `gssencmode` when the YAML names one; otherwise Disable. Npgsql's default (Prefer) probes for
    /// Kerberos credentials (keytab, GSS mechanisms) on every new connection: measurable CPU for the liveness check,
    /// and useless on a local connection nobody configured for GSS.
    /// </summary>
    internal static GssEncryptionMode GssEncryptionModeOf(PgUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.OtherParameters.TryGetValue("gssencmode", out var value)
            && Enum.TryParse<GssEncryptionMode>(value, ignoreCase: true, out var mode)
            ? mode
            : GssEncryptionMode.Disable;
    }

    /// <summary>Opens a pooled connection and runs the work, all within the deadline; a hang becomes a TimeoutException.</summary>
    public async Task<T> WithPooledAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, TimeSpan deadline, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(deadline);
        var task = Run();
        // WaitAsync returns at the deadline even if the driver is stuck in a read the token does not reach.
        return await task.WaitAsync(deadline + TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);

        async Task<T> Run()
        {
            await using var conn = await _pooled.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
            return await work(conn, cts.Token).ConfigureAwait(false);
        }
    }

    /// <summary>A fresh (unpooled) connection plus `SELECT 1`; false on any failure or after the timeout.</summary>
    public async Task<bool> CanConnectAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return await Run().WaitAsync(timeout + TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
        {
            ct.ThrowIfCancellationRequested();
            return false;
        }

        async Task<bool> Run()
        {
            await using var conn = new NpgsqlConnection(_fresh.ConnectionString);
            await conn.OpenAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            return await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) is 1;
        }
    }

    /// <summary>
    /// True when the postmaster answers a startup packet at all: connected, or refused with an error that
    /// comes from a running server (bad password, missing database). "Starting up"/"shutting down" is not ready.
    /// </summary>
    public async Task<bool> AcceptsConnectionsAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await Run().WaitAsync(timeout + TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException e) when (e.SqlState != PostgresErrorCodes.CannotConnectNow && e.SqlState != PostgresErrorCodes.AdminShutdown)
        {
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
        {
            ct.ThrowIfCancellationRequested();
            return false;
        }

        async Task Run()
        {
            await using var conn = new NpgsqlConnection(_fresh.ConnectionString);
            await conn.OpenAsync(cts.Token).ConfigureAwait(false);
        }
    }

    /// <summary>A fresh connection for administrative SQL (role creation, slots) with roomier timeouts.</summary>
    public async Task<NpgsqlConnection> OpenAdminAsync(CancellationToken ct)
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_fresh.ConnectionString) { Timeout = 5, CommandTimeout = 30 }.ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => _pooled.DisposeAsync();
}
