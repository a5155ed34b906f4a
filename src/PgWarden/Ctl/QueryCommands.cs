using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// `pgwarden dsn` (a member's or the leader's connection string, or multi-host strings for all members) and
/// `pgwarden query` (run SQL on the leader, a replica or a named member), as patronictl has them.
/// </summary>
public static class QueryCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return DsnCommand();
        yield return QueryCommand();
    }

    private static Option<string?> RoleOption(string description)
    {
        var role = new Option<string?>("--role", "-r") { Description = description };
        role.AcceptOnlyFromAmong(MemberSelector.Roles);
        return role;
    }

    private static Command DsnCommand()
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };
        var role = RoleOption("Give the dsn of a member with this role (default: the leader)");
        var member = new Option<string?>("--member", "-m") { Description = "Give the dsn of this member" };
        var multiHost = new Option<bool>("--multi-host") { Description = "Print libpq multi-host strings for all members: target_session_attrs=read-write, then prefer-standby" };
        var command = new Command("dsn", "Print a connection string for the leader, a member, or all members") { cluster, CtlCommands.ConfigFile, CtlCommands.DcsUrl, role, member, multiHost };
        command.SetAction(async (parse, ct) => await CtlCommands.WithDcsAsync(parse, cluster, async (dcs, _) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            try
            {
                if (parse.GetValue(multiHost))
                {
                    if (parse.GetValue(role) is not null || parse.GetValue(member) is not null)
                        return CtlCommands.Fail("--multi-host lists every member: leave out --role and --member");
                    Console.WriteLine(Dsn.MultiHost(view, "read-write"));
                    Console.WriteLine(Dsn.MultiHost(view, "prefer-standby"));
                    return 0;
                }
                var candidates = MemberSelector.Candidates(view, parse.GetValue(role), parse.GetValue(member));
                if (candidates.FirstOrDefault(m => m.Data.ParseConnUrl().Host is not null) is not { } chosen)
                    return CtlCommands.Fail("Can not find a suitable member");
                Console.WriteLine(Dsn.ForMember(chosen));
                return 0;
            }
            catch (ArgumentException e) { return CtlCommands.Fail(e.Message); }
        }, ct));
        return command;
    }

    // patronictl's query has -c for the SQL and -d for the database, so here the config file and the DCS address
    // are long options only.
    private static readonly Option<string?> QueryConfigFile = new("--config-file") { Description = "Patroni-format YAML (the agent's file works), default ~/.config/patroni/patronictl.yaml" };
    private static readonly Option<string?> QueryDcsUrl = new("--dcs-url", "--dcs") { Description = "DCS address, [etcd3://|etcd://|zookeeper://]host[:port][/namespace]" };

    private static Command QueryCommand()
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };
        var role = RoleOption("Run on a member with this role (default: the leader)");
        var member = new Option<string?>("--member", "-m") { Description = "Run on this member" };
        var sql = new Option<string?>("--command", "-c") { Description = "The SQL commands to execute" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Execute the SQL commands from this file" };
        var format = new Option<string>("--format") { Description = "Output format: tsv, pretty, json or yaml", DefaultValueFactory = _ => "tsv" };
        format.AcceptOnlyFromAmong("tsv", "pretty", "json", "yaml", "yml");
        var delimiter = new Option<string>("--delimiter") { Description = "The column delimiter (tsv)", DefaultValueFactory = _ => "\t" };
        var user = new Option<string?>("--username", "-U") { Description = "Database user name (default: PGUSER, else the OS user)" };
        var password = new Option<bool>("--password") { Description = "Ask for the password (default: PGPASSWORD or ~/.pgpass)" };
        var dbname = new Option<string?>("--dbname", "-d") { Description = "Database name (default: postgres)" };
        var command = new Command("query", "Run SQL on the leader, a replica or a named member and print the result")
        {
            cluster, QueryConfigFile, QueryDcsUrl, role, member, sql, file, format, delimiter, user, password, dbname,
        };
        command.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(sql);
            var path = parse.GetValue(file);
            if (text is not null && path is not null) return CtlCommands.Fail("--file and --command are mutually exclusive options");
            if (text is null && path is null) return CtlCommands.Fail("You need to specify either --command or --file");
            if (path is not null)
            {
                if (!path.Exists) return CtlCommands.Fail($"--file {path.FullName}: no such file");
                text = await File.ReadAllTextAsync(path.FullName, ct);
            }
            string? secret = null;
            if (parse.GetValue(password)) secret = ReadPassword();
            return await CtlCommands.WithDcsAsync(parse, cluster, QueryConfigFile, QueryDcsUrl, async (dcs, _) =>
            {
                var view = await dcs.GetClusterAsync(ct);
                var roleName = parse.GetValue(role);
                var memberName = parse.GetValue(member);
                IReadOnlyList<Member> candidates;
                try { candidates = MemberSelector.Candidates(view, roleName, memberName); }
                catch (ArgumentException e) { return CtlCommands.Fail(e.Message); }
                var wantRecovery = MemberSelector.RequiredRecovery(roleName, memberName);
                var target = memberName is not null ? $"member {memberName}" : $"role={roleName ?? "leader"}";
                foreach (var candidate in candidates)
                {
                    var (host, port) = candidate.Data.ParseConnUrl();
                    if (host is null) continue;
                    var builder = new NpgsqlConnectionStringBuilder
                    {
                        Host = host, Port = port, Database = parse.GetValue(dbname) ?? "postgres",
                        Timeout = 5, ApplicationName = "pgwarden ctl", Pooling = false,
                    };
                    if (parse.GetValue(user) is { } u) builder.Username = u;
                    if (secret is not null) builder.Password = secret;
                    try
                    {
                        await using var conn = new NpgsqlConnection(builder.ConnectionString);
                        await conn.OpenAsync(ct);
                        if (wantRecovery is { } recovery)
                        {
                            await using var check = new NpgsqlCommand("SELECT pg_catalog.pg_is_in_recovery()", conn);
                            if ((bool)(await check.ExecuteScalarAsync(ct))! != recovery) continue;
                        }
                        var (columns, rows) = await RunAsync(conn, text!, ct);
                        Console.Write(Render(columns, rows, parse.GetValue(format)!, parse.GetValue(delimiter)!));
                        return 0;
                    }
                    catch (PostgresException e)
                    {
                        return CtlCommands.Fail($"{candidate.Name}: ERROR, SQLSTATE: {e.SqlState}: {e.MessageText}");
                    }
                    catch (NpgsqlException e)
                    {
                        if (memberName is not null || candidates.Count == 1) return CtlCommands.Fail($"No connection to {target} is available: {candidate.Name} ({host}:{port}): {e.Message}");
                    }
                }
                return CtlCommands.Fail($"No connection to {target} is available");
            }, ct);
        });
        return command;
    }

    /// <summary>The column names and rows of the last statement that returned rows (as psycopg's fetchall gives).</summary>
    private static async Task<(List<string> Columns, List<JsonNode?[]> Rows)> RunAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        List<string> columns = [];
        List<JsonNode?[]> rows = [];
        do
        {
            if (reader.FieldCount == 0) continue;
            columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            rows = [];
            while (await reader.ReadAsync(ct))
            {
                var row = new JsonNode?[reader.FieldCount];
                for (var i = 0; i < reader.FieldCount; i++) row[i] = ToNode(await reader.IsDBNullAsync(i, ct) ? null : reader.GetValue(i));
                rows.Add(row);
            }
        } while (await reader.NextResultAsync(ct));
        return (columns, rows);
    }

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        short or int or long => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        float or double or decimal => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        string s => JsonValue.Create(s),
        DateTime d => JsonValue.Create(d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + (d.Kind == DateTimeKind.Utc ? "+00:00" : "")),
        IFormattable f => JsonValue.Create(f.ToString(null, CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(value.ToString()),
    };

    /// <summary>patronictl's print_output for query results: tsv with a header line by default.</summary>
    internal static string Render(IReadOnlyList<string> columns, IReadOnlyList<JsonNode?[]> rows, string format, string delimiter)
    {
        if (format != "tsv") return Output.Print(columns, rows, [], format == "yml" ? "yaml" : format, title: null);
        var sb = new StringBuilder();
        if (columns.Count > 0) sb.Append(string.Join(delimiter, columns)).Append('\n');
        foreach (var row in rows) sb.Append(string.Join(delimiter, row.Select(ClusterTable.Str))).Append('\n');
        return sb.ToString();
    }

    private static string ReadPassword()
    {
        Console.Error.Write("Password: ");
        if (Console.IsInputRedirected) return Console.ReadLine() ?? "";
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (sb.Length > 0) sb.Length--; continue; }
            sb.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return sb.ToString();
    }

}
