using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PgWarden.Config;
using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Postgres;

/// <summary>One PostgreSQL node for the tests: its config, its instance, and a guaranteed kill on dispose.</summary>
public sealed class PgTestNode : IAsyncDisposable
{
    public const string SuperuserPassword = "su'secret:x";

    public PgTestNode(string root, string name, string host)
    {
        Name = name;
        Host = host;
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        PgTestUser.Chown(dir);
        Config = new AgentConfig
        {
            Scope = "pgtest",
            Name = name,
            RestApi = new RestApiConfig { Listen = host + ":8008", ConnectAddress = host + ":8008" },
            Bootstrap = new BootstrapConfig
            {
                Initdb = ["--no-sync", "--encoding=UTF8"],
                Users = [new BootstrapUser("app", "app-pass", ["createdb"])],
            },
            Postgresql = new PostgresqlConfig
            {
                Listen = host + ":5432",
                ConnectAddress = host + ":5432",
                DataDir = Path.Combine(dir, "data"),
                Pgpass = Path.Combine(dir, "pgpass"),
                BinDir = PgTestUser.BinDir,
                Authentication = new PgAuthentication
                {
                    Superuser = new PgUser { Username = "postgres", Password = SuperuserPassword },
                    Replication = new PgUser { Username = "replicator", Password = "rep pass\\" },
                    Rewind = new PgUser { Username = "rewinder", Password = "rew" },
                },
                Parameters = new Dictionary<string, string>
                {
                    // Other test suites use port 5432 on other addresses: keep our sockets private.
                    ["unix_socket_directories"] = dir,
                    ["fsync"] = "off",
                    ["shared_buffers"] = "16MB",
                    ["max_connections"] = "500", // protected: must be ignored locally
                },
            },
        };
        Instance = new PostgresInstance(Config, NullLogger.Instance, TimeProvider.System, PgTestUser.Name);
    }

    public string Name { get; }
    public string Host { get; }
    public AgentConfig Config { get; }
    public PostgresInstance Instance { get; }

    public static DynamicConfig Dynamic { get; } = new()
    {
        Parameters = new Dictionary<string, string> { ["max_connections"] = "50", ["max_wal_senders"] = "5" },
    };

    public NpgsqlConnection Connect() => new(new NpgsqlConnectionStringBuilder
    {
        Host = Host, Port = 5432, Username = "postgres", Password = SuperuserPassword, Database = "postgres",
        Pooling = false, Timeout = 3, CommandTimeout = 5,
    }.ConnectionString);

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>Whatever state the test left: stop bounded, then SIGKILL anything still alive.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await Instance.StopAsync(StopMode.Immediate, TimeSpan.FromSeconds(5), CancellationToken.None); }
        catch (Exception) { /* the kill below is the guarantee */ }
        if (Instance.PostmasterPid() is { } pid)
        {
            foreach (var child in ProcStat.ChildrenOf(pid)) PosixSignals.Send(child, PosixSignals.SigKill);
            PosixSignals.Send(pid, PosixSignals.SigCont);
            PosixSignals.Send(pid, PosixSignals.SigKill);
        }
        await Instance.DisposeAsync();
    }
}
