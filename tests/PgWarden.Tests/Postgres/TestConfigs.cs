using PgWarden.Config;

namespace PgWarden.Tests.Postgres;

internal static class TestConfigs
{
    public static AgentConfig Agent(Func<PostgresqlConfig, PostgresqlConfig>? postgresql = null, string name = "node-1") => new()
    {
        Scope = "batman",
        Name = name,
        RestApi = new RestApiConfig { Listen = "127.0.0.1:8008", ConnectAddress = "127.0.0.1:8008" },
        Postgresql = (postgresql ?? (p => p))(new PostgresqlConfig
        {
            Listen = "127.0.0.31:5432",
            ConnectAddress = "127.0.0.31:5432",
            DataDir = "/var/lib/pg/data",
            Pgpass = "/var/lib/pg/pgpass",
            Authentication = new PgAuthentication
            {
                Superuser = new PgUser { Username = "postgres", Password = "su-secret" },
                Replication = new PgUser { Username = "replicator", Password = "rep-secret" },
            },
        }),
    };
}
