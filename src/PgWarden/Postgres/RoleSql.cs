using System.Text.RegularExpressions;

namespace PgWarden.Postgres;

/// <summary>Quoting for the role DDL that cannot take bind parameters.</summary>
internal static partial class RoleSql
{
    /// <summary>What a pg_rewind user needs (Patroni's list).</summary>
    public static readonly IReadOnlyList<string> RewindFunctions =
    [
        "pg_catalog.pg_ls_dir(text, boolean, boolean)",
        "pg_catalog.pg_stat_file(text, boolean)",
        "pg_catalog.pg_read_binary_file(text)",
        "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
    ];

    public static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A string literal under standard_conforming_strings = on (set by the caller).</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A role option such as createdb or "CONNECTION LIMIT 5", upper-cased; anything else is refused.</summary>
    public static string Option(string option)
    {
        var o = option.Trim().ToUpperInvariant();
        return ValidOption().IsMatch(o) ? o
            : throw new ArgumentException($"Role option '{option}' is not allowed; expected keywords such as CREATEDB or CONNECTION LIMIT 5.", nameof(option));
    }

    [GeneratedRegex("^[A-Z]+( [A-Z0-9-]+)*$")]
    private static partial Regex ValidOption();
}
