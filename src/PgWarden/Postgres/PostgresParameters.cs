using System.Globalization;
using System.Text;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>
/// The effective server parameters (compat §3.6): protected defaults, overridden by dynamic parameters
/// (the protected ones only from there, validated), then by local parameters for everything else; then the
/// values PgWarden owns (listen, port, cluster_name, hba/ident files) and, for a standby, the recovery settings.
/// </summary>
public sealed class PostgresParameters
{
    /// <summary>
    /// Protected parameters and their defaults (Config/ProtectedParameters), settable only from the dynamic
    /// configuration, as PostgreSQL 13+ spells them: wal_keep_size instead of wal_keep_segments, replica for hot_standby.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ProtectedDefaults = ProtectedParameters.Defaults
        .Where(kv => kv.Key != "wal_keep_segments")
        .ToDictionary(kv => kv.Key, kv => kv.Key == "wal_level" && kv.Value == "hot_standby" ? "replica" : kv.Value, StringComparer.Ordinal);

    /// <summary>Not settable at all: derived from postgresql.listen and scope.</summary>
    public static readonly IReadOnlySet<string> Owned = new HashSet<string>(StringComparer.Ordinal)
    {
        "listen_addresses", "port", "cluster_name",
    };

    /// <summary>Recovery settings PgWarden writes itself for a standby; ignored in the parameter maps.</summary>
    public static readonly IReadOnlySet<string> RecoveryParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "primary_conninfo", "primary_slot_name", "recovery_target_timeline", "standby_mode", "promote_trigger_file",
        "restore_command", "archive_cleanup_command", "recovery_end_command", "recovery_min_apply_delay",
        "recovery_target", "recovery_target_lsn", "recovery_target_name", "recovery_target_time",
        "recovery_target_xid", "recovery_target_action", "recovery_target_inclusive", "trigger_file",
    };

    /// <summary>Passed on the postmaster command line too, so ALTER SYSTEM cannot override them (wal_keep_size is not).</summary>
    public static readonly IReadOnlyList<string> CommandLineNames =
    [
        "listen_addresses", "port", "cluster_name", "wal_level", "hot_standby", "max_connections", "max_wal_senders",
        "max_prepared_transactions", "max_locks_per_transaction", "track_commit_timestamp", "max_replication_slots",
        "max_worker_processes", "wal_log_hints",
    ];

    /// <summary>pg_controldata setting name → GUC, for the replica start-up rule.</summary>
    private static readonly (string Control, string Guc)[] ControlDataMinimums =
    [
        ("max_connections", "max_connections"), ("max_prepared_xacts", "max_prepared_transactions"),
        ("max_locks_per_xact", "max_locks_per_transaction"), ("max_worker_processes", "max_worker_processes"),
        ("max_wal_senders", "max_wal_senders"),
    ];

    /// <summary>The parameters a standby may not run below the primary's value (the primary records them in pg_control).</summary>
    public static IReadOnlyList<string> StandbyMinimumParameters { get; } = [.. ControlDataMinimums.Select(m => m.Guc)];

    public SortedDictionary<string, string> Values { get; } = new(StringComparer.Ordinal);
    public List<string> Warnings { get; } = [];

    /// <param name="controlDataSettings">pg_controldata settings; on a standby a higher value there wins (or it will not start).</param>
    public static PostgresParameters Build(AgentConfig config, DynamicConfig dynamic, RecoveryTarget? target, string pgpassPath,
        IReadOnlyDictionary<string, string>? controlDataSettings = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(dynamic);
        var p = new PostgresParameters();
        var v = p.Values;
        foreach (var (k, val) in ProtectedDefaults) v[k] = val;

        foreach (var (name, value) in dynamic.Parameters)
        {
            if (Owned.Contains(name) || RecoveryParameters.Contains(name)) continue;
            if (name == "wal_keep_segments")
            {
                // PostgreSQL 13 replaced segments with a size: convert (16MB segments) unless a size is given too.
                if (!dynamic.Parameters.ContainsKey("wal_keep_size"))
                {
                    p.SetProtected("wal_keep_size", IntAtLeast(value, 1) is { } seg
                        ? (long.Parse(seg, CultureInfo.InvariantCulture) * 16).ToString(CultureInfo.InvariantCulture) + "MB"
                        : value);
                }
            }
            else if (ProtectedDefaults.ContainsKey(name)) p.SetProtected(name, value);
            else v[name] = value;
        }
        foreach (var (name, value) in config.Postgresql.Parameters)
        {
            if (Owned.Contains(name) || RecoveryParameters.Contains(name)) continue;
            if (ProtectedDefaults.ContainsKey(name) || name == "wal_keep_segments")
            {
                if (!dynamic.Parameters.TryGetValue(name, out var dyn) || dyn != value)
                    p.Warnings.Add($"Local parameter {name}={value} ignored: it is only settable in the dynamic configuration.");
                continue;
            }
            v[name] = value;
        }

        var listen = ListenAddress.Parse(config.Postgresql.Listen);
        v["listen_addresses"] = listen.ListenAddresses;
        v["port"] = listen.Port.ToString(CultureInfo.InvariantCulture);
        v["cluster_name"] = config.Scope;
        var configDir = config.Postgresql.EffectiveConfigDir;
        v["hba_file"] = ResolvePath(configDir, v.GetValueOrDefault("hba_file") ?? "pg_hba.conf");
        v["ident_file"] = ResolvePath(configDir, v.GetValueOrDefault("ident_file") ?? "pg_ident.conf");

        if (target is not null)
        {
            if (controlDataSettings is not null) p.ApplyControlDataMinimums(controlDataSettings);
            foreach (var (name, value) in config.Postgresql.RecoveryConf)
            {
                if (name is "primary_conninfo" or "primary_slot_name" or "standby_mode") continue;
                v[name] = value;
            }
            // A standby with no upstream (no leader yet, or the DCS unreachable) stays read-only and streams from nobody.
            if (target.HasUpstream)
            {
                v["primary_conninfo"] = PrimaryConnInfo(config, target, pgpassPath);
                var slot = target.SlotName ?? (dynamic.UseSlots ? SlotNames.FromMemberName(config.Name) : null);
                if (slot is not null) v["primary_slot_name"] = slot;
            }
            v["recovery_target_timeline"] = "latest";
        }
        return p;
    }

    /// <summary>primary_conninfo for following the given upstream with the replication user (compat §5.11).</summary>
    public static string PrimaryConnInfo(AgentConfig config, RecoveryTarget target, string pgpassPath)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(target);
        var repl = config.Postgresql.Authentication.Replication;
        return LibpqConnInfo.Render(
        [
            new("user", repl.Username),
            new("passfile", pgpassPath),
            new("host", target.Host),
            new("port", target.Port.ToString(CultureInfo.InvariantCulture)),
            new("sslmode", repl.SslMode ?? "prefer"),
            new("sslcert", repl.SslCert),
            new("sslkey", repl.SslKey),
            new("sslrootcert", repl.SslRootCert),
            new("application_name", config.Name),
            new("gssencmode", "prefer"),
            new("channel_binding", "prefer"),
        ]);
    }

    /// <summary>The postgresql.conf PgWarden owns: the include of the base file first, so our values win.</summary>
    public string RenderConf(string baseConfName = "postgresql.base.conf")
    {
        var sb = new StringBuilder();
        sb.Append("# Do not edit this file manually!\n# It is rewritten by PgWarden; put local settings in ")
          .Append(baseConfName).Append(" or in the PgWarden configuration.\n");
        sb.Append("include ").Append(QuoteConfValue(baseConfName)).Append("\n\n");
        foreach (var (name, value) in Values) sb.Append(name).Append(" = ").Append(QuoteConfValue(value)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The `--name=value` options for the postmaster command line.</summary>
    public IReadOnlyList<string> CommandLineOptions() =>
        CommandLineNames.Where(Values.ContainsKey).Select(n => $"--{n}={Values[n]}").ToList();

    /// <summary>postgresql.conf string quoting: backslashes are escapes there too, so both ' and \ are escaped.</summary>
    public static string QuoteConfValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private void SetProtected(string name, string value)
    {
        var v = Values;
        string? accepted = name switch
        {
            "wal_level" => value.ToLowerInvariant() switch { "hot_standby" or "replica" => "replica", "logical" => "logical", _ => null },
            "hot_standby" => IsOn(value) ? "on" : null,
            "max_connections" => IntAtLeast(value, 25),
            "max_wal_senders" => IntAtLeast(value, 3),
            "max_prepared_transactions" => IntAtLeast(value, 0),
            "max_locks_per_transaction" => IntAtLeast(value, 32),
            "max_replication_slots" => IntAtLeast(value, 4),
            "max_worker_processes" => IntAtLeast(value, 2),
            "track_commit_timestamp" or "wal_log_hints" => Bool(value),
            "wal_keep_size" => SizeMbAtLeast(value, 16) is { } mb ? mb.ToString(CultureInfo.InvariantCulture) + "MB" : null,
            _ => value,
        };
        if (accepted is null)
        {
            Warnings.Add($"Dynamic parameter {name}={value} is not valid; using the default {ProtectedDefaults[name]}.");
            return;
        }
        v[name] = accepted;
    }

    private void ApplyControlDataMinimums(IReadOnlyDictionary<string, string> control)
    {
        foreach (var (controlName, guc) in ControlDataMinimums)
        {
            if (control.TryGetValue(controlName, out var c) && long.TryParse(c, CultureInfo.InvariantCulture, out var fromControl)
                && long.TryParse(Values[guc], CultureInfo.InvariantCulture, out var configured) && fromControl > configured)
            {
                Warnings.Add($"{guc}={configured} is lower than {fromControl} in pg_controldata; a standby must use at least the primary's value.");
                Values[guc] = fromControl.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    private static string ResolvePath(string configDir, string path) => Path.IsPathRooted(path) ? path : Path.Combine(configDir, path);

    private static bool IsOn(string value) => Bool(value) == "on";

    private static string? Bool(string value) => value.Trim().ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" or "t" or "y" => "on",
        "off" or "false" or "no" or "0" or "f" or "n" => "off",
        _ => null,
    };

    private static string? IntAtLeast(string value, long min) =>
        long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n.ToString(CultureInfo.InvariantCulture) : null;

    /// <summary>A size in MB from "128MB", "1GB", "512kB" or a bare number (MB, wal_keep_size's unit).</summary>
    private static long? SizeMbAtLeast(string value, long minMb)
    {
        var t = value.Trim();
        var i = 0;
        while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
        if (i == 0 || !long.TryParse(t.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        long? mb = t[i..].Trim().ToUpperInvariant() switch
        {
            "" or "MB" => n,
            "KB" => n / 1024,
            "GB" => n * 1024,
            "TB" => n * 1024 * 1024,
            _ => null,
        };
        return mb >= minMb ? mb : null;
    }
}
