using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>pg_hba.conf content: local postgresql.pg_hba, else the dynamic one, else a safe default.</summary>
public static class PgHbaFile
{
    public static string Render(AgentConfig config, DynamicConfig dynamic)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(dynamic);
        IEnumerable<string> lines = config.Postgresql.PgHba.Count > 0 ? config.Postgresql.PgHba
            : dynamic.PgHba.Count > 0 ? dynamic.PgHba
            : DefaultLines(config);
        return "# Written by PgWarden from postgresql.pg_hba; do not edit.\n" + string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// bootstrap.pg_hba first (first match wins), then: the OS user over the local socket (peer), the
    /// replication user and every user with a password from loopback. md5 also accepts SCRAM-hashed passwords.
    /// </summary>
    public static IReadOnlyList<string> DefaultLines(AgentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var replication = config.Postgresql.Authentication.Replication.Username;
        var lines = new List<string>(config.Bootstrap?.PgHba ?? []);
        lines.AddRange(
        [
            "local   all             all                                     peer",
            "local   replication     all                                     peer",
            $"host    replication     {QuoteName(replication)}   127.0.0.1/32   md5",
            "host    all             all             127.0.0.1/32            md5",
            $"host    replication     {QuoteName(replication)}   ::1/128        md5",
            "host    all             all             ::1/128                 md5",
        ]);
        return lines;
    }

    private static string QuoteName(string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? name : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
