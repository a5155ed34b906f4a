namespace PgWarden.Postgres;

/// <summary>A PostgreSQL tool (initdb, pg_ctl, pg_basebackup...) failed; the message carries its stderr.</summary>
public sealed class PostgresCommandException(string message) : Exception(message);
