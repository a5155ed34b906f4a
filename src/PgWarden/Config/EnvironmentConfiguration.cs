using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>
/// The PATRONI_* variables as a configuration tree (Patroni's _build_environment_configuration): applied on top of
/// the file. Values are typed the way Patroni types them: lists and dicts YAML-parsed, booleans via the bool
/// parser, ports as integers, everything else a string. Empty variables are ignored, as in Patroni.
/// </summary>
internal static class EnvironmentConfiguration
{
    private const string Prefix = "PATRONI_";

    private static readonly string[] AuthParameters =
    [
        "username", "password", "sslmode", "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir",
        "gssencmode", "channel_binding", "sslnegotiation",
    ];

    // Patroni's generic DCS rule: PATRONI_<SECTION>_<SUFFIX> for any section name.
    private static readonly HashSet<string> DcsSuffixes =
    [
        "HOST", "HOSTS", "PORT", "USE_PROXIES", "PROTOCOL", "SRV", "SRV_SUFFIX", "URL", "PROXY", "CACERT", "CERT", "KEY",
        "VERIFY", "TOKEN", "CHECKS", "DC", "CONSISTENCY", "REGISTER_SERVICE", "SERVICE_CHECK_INTERVAL",
        "SERVICE_CHECK_TLS_SERVER_NAME", "SERVICE_TAGS", "NAMESPACE", "CONTEXT", "USE_ENDPOINTS", "SCOPE_LABEL",
        "ROLE_LABEL", "POD_IP", "PORTS", "LABELS", "BYPASS_API_SERVICE", "RETRIABLE_HTTP_CODES", "KEY_PASSWORD",
        "USE_SSL", "SET_ACLS", "GROUP", "DATABASE", "LEADER_LABEL_VALUE", "FOLLOWER_LABEL_VALUE",
        "STANDBY_LEADER_LABEL_VALUE", "TMP_ROLE_LABEL", "AUTH_DATA", "BOOTSTRAP_LABELS",
    ];

    private static readonly Dictionary<string, string[]> SectionValues = new()
    {
        ["restapi"] =
        [
            "listen", "connect_address", "certfile", "keyfile", "keyfile_password", "cafile", "ciphers", "verify_client",
            "http_extra_headers", "https_extra_headers", "allowlist", "allowlist_include_members", "request_queue_size",
            "server_tokens",
        ],
        ["ctl"] = ["insecure", "cacert", "certfile", "keyfile", "keyfile_password"],
        ["postgresql"] = ["listen", "connect_address", "proxy_address", "config_dir", "data_dir", "pgpass", "bin_dir"],
        ["log"] =
        [
            "type", "level", "traceback_level", "format", "dateformat", "static_fields", "max_queue_size", "dir", "mode",
            "file_size", "file_num", "loggers", "deduplicate_heartbeat_logs",
        ],
        ["raft"] = ["data_dir", "self_addr", "partner_addrs", "password", "bind_addr"],
    };

    public static YamlMappingNode Build(IReadOnlyDictionary<string, string?> environment)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in environment)
            if (k.StartsWith(Prefix, StringComparison.Ordinal) && v is not null) env[k] = v;

        var root = new YamlMappingNode();
        string? Pop(string name)
        {
            var key = Prefix + name.ToUpperInvariant();
            if (!env.Remove(key, out var value)) return null;
            return value.Length == 0 ? null : value;
        }

        foreach (var param in new[] { "name", "namespace", "scope", "thread_pool_size", "thread_stack_size" })
            if (Pop(param) is { } v) root.Add(param, Str(v));

        // Legacy log names are used only when the new name is not set.
        foreach (var (name, old) in new[] { ("level", "loglevel"), ("format", "logformat"), ("dateformat", "log_datefmt") })
            if (Pop(old) is { } v) env.TryAdd(Prefix + "LOG_" + name.ToUpperInvariant(), v);

        foreach (var (section, parameters) in SectionValues)
        {
            foreach (var param in parameters)
            {
                if (Pop(section + "_" + param) is not { } raw) continue;
                YamlNode? value = (section, param) switch
                {
                    ("restapi", "allowlist_include_members") or ("ctl", "insecure") or ("log", "deduplicate_heartbeat_logs") => Bool(raw),
                    ("log", "max_queue_size" or "file_size" or "file_num" or "mode") or ("restapi", "request_queue_size") => Int(raw),
                    ("raft", "partner_addrs") or ("restapi", "allowlist") => ParseList(raw),
                    ("restapi", "http_extra_headers" or "https_extra_headers") or ("log", "loggers" or "static_fields") => ParseDict(raw),
                    _ => Str(raw),
                };
                if (value is not null) Section(root, section).Add(param, value);
            }
        }

        foreach (var binary in new[] { "pg_ctl", "initdb", "pg_controldata", "pg_basebackup", "postgres", "pg_isready", "pg_rewind" })
        {
            if (Pop("postgresql_bin_" + binary) is not { } v) continue;
            var postgresql = Section(root, "postgresql");
            if (!postgresql.Children.TryGetValue(new YamlScalarNode("bin_name"), out var names))
            {
                names = new YamlMappingNode();
                postgresql.Add("bin_name", names);
            }
            ((YamlMappingNode)names).Add(binary, Str(v));
        }

        var restapiAuth = Auth("restapi", ["username", "password"], Pop);
        if (restapiAuth is not null) Section(root, "restapi").Add("authentication", restapiAuth);
        // PgWarden also reads PATRONI_CTL_USERNAME/PASSWORD (Patroni 4.x does; 3.0 had no variable for them).
        var ctlAuth = Auth("ctl", ["username", "password"], Pop);
        if (ctlAuth is not null) Section(root, "ctl").Add("authentication", ctlAuth);

        var authentication = new YamlMappingNode();
        foreach (var userType in new[] { "replication", "superuser", "rewind" })
            if (Auth(userType, AuthParameters, Pop) is { } entry) authentication.Add(userType, entry);
        if (authentication.Children.Count > 0) Section(root, "postgresql").Add("authentication", authentication);

        foreach (var param in env.Keys.Order(StringComparer.Ordinal).ToList())
        {
            var rest = param[Prefix.Length..];
            var cut = rest.IndexOf('_', StringComparison.Ordinal);
            if (cut <= 0) continue;
            var (name, suffix) = (rest[..cut], rest[(cut + 1)..]);
            if (!DcsSuffixes.Contains(suffix)) continue;
            var raw = env[param];
            env.Remove(param);
            YamlNode? value;
            if (name == "CITUS")
            {
                if (suffix == "GROUP") value = Int(raw);
                else if (suffix == "DATABASE") value = Str(raw);
                else continue;
            }
            else value = suffix switch
            {
                "PORT" => raw.Length == 0 ? null : Int(raw),
                "HOSTS" or "PORTS" or "CHECKS" or "SERVICE_TAGS" or "RETRIABLE_HTTP_CODES" => raw.Length == 0 ? null : ParseList(raw),
                "LABELS" or "SET_ACLS" or "BOOTSTRAP_LABELS" => ParseDict(raw),
                "USE_PROXIES" or "REGISTER_SERVICE" or "USE_ENDPOINTS" or "BYPASS_API_SERVICE" or "VERIFY" or "USE_SSL" => Bool(raw),
                _ => Str(raw),
            };
            if (value is not null) Section(root, name.ToLowerInvariant()).Add(suffix.ToLowerInvariant(), value);
        }
        foreach (var dcs in new[] { "etcd", "etcd3" })
        {
            if (!root.Children.ContainsKey(dcs)) continue;
            foreach (var param in new[] { "username", "password" })
                if (Pop(dcs + "_" + param) is { } v) ((YamlMappingNode)root[dcs]).Add(param, Str(v));
        }

        // PATRONI_<user>_PASSWORD (+ _OPTIONS) creates a user at bootstrap (Patroni 3.x).
        var users = new YamlMappingNode();
        foreach (var param in env.Keys.Order(StringComparer.Ordinal).ToList())
        {
            if (!env.ContainsKey(param)) continue;
            var rest = param[Prefix.Length..];
            var cut = rest.LastIndexOf('_');
            if (cut <= 0 || rest[(cut + 1)..] != "PASSWORD") continue;
            var user = rest[..cut];
            var password = env[param];
            env.Remove(param);
            if (password.Length == 0) continue;
            var entry = new YamlMappingNode { { "password", Str(password) } };
            if (env.Remove(Prefix + user + "_OPTIONS", out var options) && options.Length > 0 && ParseList(options) is { } list)
                entry.Add("options", list);
            users.Add(user, entry);
        }
        if (users.Children.Count > 0) Section(root, "bootstrap").Add("users", users);
        return root;
    }

    private static YamlMappingNode? Auth(string name, string[] parameters, Func<string, string?> pop)
    {
        var entry = new YamlMappingNode();
        foreach (var param in parameters)
            if (pop(name + "_" + param) is { } v) entry.Add(param, Str(v));
        return entry.Children.Count > 0 ? entry : null;
    }

    private static YamlMappingNode Section(YamlMappingNode root, string name)
    {
        if (root.Children.TryGetValue(new YamlScalarNode(name), out var existing)) return (YamlMappingNode)existing;
        var section = new YamlMappingNode();
        root.Add(name, section);
        return section;
    }

    /// <summary>An environment string is a string even when it looks like a number or a boolean.</summary>
    private static YamlScalarNode Str(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    private static YamlScalarNode? Bool(string raw)
    {
        var lower = raw.ToLowerInvariant();
        if (lower is "on" or "true" or "yes" or "1") return new YamlScalarNode("true") { Style = ScalarStyle.Plain };
        if (lower is "off" or "false" or "no" or "0") return new YamlScalarNode("false") { Style = ScalarStyle.Plain };
        return null;
    }

    private static YamlScalarNode? Int(string raw)
    {
        var t = raw.Trim();
        return long.TryParse(t, out _) ? new YamlScalarNode(t) { Style = ScalarStyle.Plain } : null;
    }

    // Patroni: a bare "a,b" is wrapped in [...] before YAML parsing; an unparsable value is dropped.
    private static YamlNode? ParseList(string raw)
    {
        var text = raw.TrimStart().StartsWith('-') || raw.Contains('[', StringComparison.Ordinal) ? raw : "[" + raw + "]";
        return TryParse(text);
    }

    private static YamlNode? ParseDict(string raw)
    {
        var text = raw.TrimStart().StartsWith('{') ? raw : "{" + raw + "}";
        return TryParse(text);
    }

    private static YamlNode? TryParse(string text)
    {
        try
        {
            return YamlJson.ParseDocument(text, "environment");
        }
        catch (ConfigException)
        {
            return null;
        }
    }
}
