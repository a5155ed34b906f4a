using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace PgWarden.Config;

/// <summary>Maps the merged configuration tree onto AgentConfig, section by section, with Patroni's defaults.</summary>
internal static partial class AgentConfigReader
{
    private static readonly string[] UnsupportedDcs = ["consul", "exhibitor", "kubernetes", "raft"];
    private static readonly string[] DynamicOnlyKeys =
    [
        "ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "maximum_lag_on_syncnode", "max_timelines_history",
        "primary_start_timeout", "primary_stop_timeout", "master_start_timeout", "master_stop_timeout", "synchronous_mode",
        "synchronous_mode_strict", "synchronous_node_count", "failsafe_mode", "check_timeline", "standby_cluster", "slots",
        "ignore_slots", "member_slots_ttl",
    ];

    [GeneratedRegex("/+")]
    private static partial Regex Slashes();

    public static AgentConfig Read(YamlSection root, string? sourcePath)
    {
        var scope = root.RequiredString("scope");
        var name = root.RequiredString("name");
        var ns = NormaliseNamespace(root.String("namespace") ?? "/service/");
        root.Accept("thread_pool_size", "thread_stack_size");
        root.Unsupported("citus");
        var dynamicOnly = DynamicOnlyKeys.Where(root.Has).ToList();
        root.Accept(DynamicOnlyKeys);

        var restApi = ReadRestApi(root.RequiredSection("restapi"));
        var ctl = root.Section("ctl") is { } ctlSection ? ReadCtl(ctlSection) : null;
        var etcd3 = root.Section("etcd3") is { } etcdSection ? ReadEtcd(etcdSection) : null;
        var etcd = root.Section("etcd") is { } etcd2Section ? ReadEtcd(etcd2Section) : null;
        var zookeeper = root.Section("zookeeper") is { } zkSection ? ReadZooKeeper(zkSection) : null;
        root.Unsupported(UnsupportedDcs);
        if (etcd3 is null && etcd is null && zookeeper is null)
        {
            var others = UnsupportedDcs.Where(root.Has).ToList();
            var found = others.Count == 0 ? "" : $" (found {string.Join(", ", others.Select(o => $"'{o}'"))}, which PgWarden does not support yet)";
            throw new ConfigException("etcd3", $"etcd3: a DCS section is required: 'etcd3' or 'etcd' with host, hosts or url, or 'zookeeper' with hosts{found}");
        }
        var bootstrap = root.Section("bootstrap") is { } bootstrapSection ? ReadBootstrap(bootstrapSection) : null;
        var postgresql = ReadPostgresql(root.RequiredSection("postgresql"));
        var tags = root.Section("tags") is { } tagSection ? ReadTags(tagSection) : MemberTags.Empty;
        var watchdog = root.Section("watchdog") is { } watchdogSection ? ReadWatchdog(watchdogSection) : new WatchdogConfig();
        var log = root.Section("log") is { } logSection ? ReadLog(logSection) : new LogConfig();
        root.WarnUnknown();
        foreach (var key in dynamicOnly)
            root.AddWarning($"configuration key '{key}' is only read from the dynamic configuration (bootstrap.dcs or edit-config) and ignored here");

        return new AgentConfig
        {
            Scope = scope,
            Namespace = ns,
            Name = name,
            RestApi = restApi,
            Ctl = ctl,
            Etcd3 = etcd3,
            Etcd = etcd,
            ZooKeeper = zookeeper,
            Bootstrap = bootstrap,
            Postgresql = postgresql,
            Tags = tags,
            Watchdog = watchdog,
            Log = log,
            SourcePath = sourcePath,
        };
    }

    /// <summary>Patroni joins "/" + namespace + "/" + scope and collapses slashes: "service", "/service" -> "/service/".</summary>
    public static string NormaliseNamespace(string ns) => Slashes().Replace("/" + ns.Trim() + "/", "/");

    private static RestApiConfig ReadRestApi(YamlSection s)
    {
        var listen = s.RequiredString("listen");
        Throw(s, "listen", HostPort.Check(s.KeyOf("listen"), listen));
        var connect = s.String("connect_address") is { Length: > 0 } c ? c : listen;
        Throw(s, "connect_address", HostPort.Check(s.KeyOf("connect_address"), connect));
        var verify = (s.String("verify_client") ?? "none").ToLowerInvariant();
        if (verify is not ("none" or "optional" or "required"))
            throw new ConfigException(s.KeyOf("verify_client"), $"{s.KeyOf("verify_client")}: '{verify}' is not one of none, optional, required");
        s.Accept("ciphers", "request_queue_size", "thread_pool_size", "server_tokens");
        s.Unsupported("https_extra_headers");
        var config = new RestApiConfig
        {
            Listen = listen,
            ConnectAddress = connect,
            Authentication = s.Section("authentication") is { } auth ? ReadCredentials(auth) : null,
            CertFile = s.String("certfile"),
            KeyFile = s.String("keyfile"),
            KeyFilePassword = s.String("keyfile_password"),
            CaFile = s.String("cafile"),
            VerifyClient = verify,
            Allowlist = s.StringList("allowlist"),
            AllowlistIncludeMembers = s.Bool("allowlist_include_members", false),
            HttpExtraHeaders = s.StringMap("http_extra_headers"),
        };
        s.WarnUnknown();
        return config;
    }

    private static Credentials ReadCredentials(YamlSection s)
    {
        var credentials = new Credentials(s.RequiredString("username"), s.String("password"));
        s.WarnUnknown();
        return credentials;
    }

    private static CtlConfig ReadCtl(YamlSection s)
    {
        var config = new CtlConfig
        {
            Authentication = s.Section("authentication") is { } auth ? ReadCredentials(auth) : null,
            Insecure = s.Bool("insecure", false),
            CaCert = s.String("cacert"),
            CertFile = s.String("certfile"),
            KeyFile = s.String("keyfile"),
            KeyFilePassword = s.String("keyfile_password"),
        };
        s.WarnUnknown();
        return config;
    }

    private const int EtcdDefaultPort = 2379;

    private static EtcdConfig ReadEtcd(YamlSection s)
    {
        var protocol = s.String("protocol");
        string? username = s.String("username"), password = s.String("password");
        var hosts = new List<string>();
        if (s.String("url") is { Length: > 0 } url)
        {
            foreach (var one in url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(one, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
                    throw new ConfigException(s.KeyOf("url"), $"{s.KeyOf("url")}: '{one}' is not a URL like http://host:2379");
                protocol ??= uri.Scheme;
                var host = uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.Host.Trim('[', ']') + "]" : uri.Host;
                hosts.Add(host + ":" + (uri.IsDefaultPort && !one.Contains($":{uri.Port}", StringComparison.Ordinal) ? EtcdDefaultPort : uri.Port));
                if (uri.UserInfo.Length > 0)
                {
                    var parts = uri.UserInfo.Split(':', 2);
                    username ??= Uri.UnescapeDataString(parts[0]);
                    if (parts.Length == 2) password ??= Uri.UnescapeDataString(parts[1]);
                }
            }
        }
        else if (s.Get("hosts") is { } hostsNode)
        {
            IEnumerable<string> entries = hostsNode switch
            {
                YamlSequenceNode seq => s.StringList("hosts"),
                YamlScalarNode scalar => (scalar.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                _ => throw s.Expected("hosts", hostsNode, "a list of host:port or a \"h1:p1,h2:p2\" string"),
            };
            hosts.AddRange(entries.Select(h => HostPort.WithDefaultPort(h, EtcdDefaultPort)));
        }
        else if (s.String("host") is { Length: > 0 } host)
        {
            var port = s.Int("port", 0);
            var withPort = HostPort.WithDefaultPort(host, EtcdDefaultPort);
            if (port > 0 && HostPort.TryParse(withPort, out var h, out _))
                withPort = h + ":" + port;
            hosts.Add(withPort);
        }
        s.Accept("host", "hosts", "port", "url");
        s.Unsupported("proxy", "srv", "srv_suffix", "discovery_srv", "srv_domain", "use_proxies");
        if (hosts.Count == 0)
            throw new ConfigException(s.Path, $"{s.Path}: no etcd endpoint: set host, hosts or url");
        foreach (var h in hosts) Throw(s, "hosts", HostPort.Check(s.KeyOf("hosts"), h));
        protocol ??= "http";
        if (protocol is not ("http" or "https"))
            throw new ConfigException(s.KeyOf("protocol"), $"{s.KeyOf("protocol")}: '{protocol}' is not http or https");
        var config = new EtcdConfig
        {
            Hosts = hosts,
            Protocol = protocol,
            Username = username,
            Password = password,
            CaCert = s.String("cacert"),
            Cert = s.String("cert"),
            Key = s.String("key"),
        };
        s.Accept("key_password");
        s.WarnUnknown();
        return config;
    }

    private const int ZooKeeperDefaultPort = 2181;

    private static ZooKeeperConfig ReadZooKeeper(YamlSection s)
    {
        IEnumerable<string> entries = s.Get("hosts") switch
        {
            null => [],
            YamlSequenceNode => s.StringList("hosts"),
            YamlScalarNode scalar => (scalar.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            var other => throw s.Expected("hosts", other, "a list of host:port or a \"h1:p1,h2:p2\" string"),
        };
        var hosts = entries.Select(h => HostPort.WithDefaultPort(h, ZooKeeperDefaultPort)).ToList();
        if (hosts.Count == 0)
            throw new ConfigException(s.KeyOf("hosts"), $"{s.KeyOf("hosts")}: no ZooKeeper server: set hosts to a list of host:port");
        foreach (var h in hosts) Throw(s, "hosts", HostPort.Check(s.KeyOf("hosts"), h));
        var useSsl = s.Bool("use_ssl", false);
        if (useSsl) throw new ConfigException(s.KeyOf("use_ssl"), $"{s.KeyOf("use_ssl")}: TLS to ZooKeeper is not supported yet; use a plain-text port");
        s.Unsupported("set_acls", "auth_data");
        var config = new ZooKeeperConfig
        {
            Hosts = hosts,
            UseSsl = useSsl,
            CaCert = s.String("cacert"),
            Cert = s.String("cert"),
            Key = s.String("key"),
            KeyPassword = s.String("key_password"),
            Verify = s.Bool("verify", true),
        };
        s.WarnUnknown();
        return config;
    }

    private static BootstrapConfig ReadBootstrap(YamlSection s)
    {
        string? dcsJson = null;
        if (s.Get("dcs") is { } dcs)
        {
            if (dcs is not YamlMappingNode) throw s.Expected("dcs", dcs, "a mapping of dynamic configuration keys");
            var dcsObject = (System.Text.Json.Nodes.JsonObject)YamlJson.ToJson(dcs)!;
            // Node-local keys (credentials among them) never go to the shared config key (compat §3.1).
            foreach (var removed in LocalOnlyKeys.Strip(dcsObject))
                s.AddWarning($"{s.KeyOf("dcs")}.{removed} is local to each node and is not written to the DCS; set it under postgresql:");
            dcsJson = dcsObject.ToJsonString();
        }
        var method = s.String("method") is { Length: > 0 } m ? m : "initdb";
        var initdb = UserOptions(s, "initdb", ["pgdata", "nosync", "pwfile", "sync-only", "version"]);
        var users = new List<BootstrapUser>();
        if (s.Section("users") is { } usersSection)
        {
            foreach (var user in usersSection.Keys.ToList())
            {
                var u = usersSection.Section(user);
                if (u is null)
                {
                    users.Add(new BootstrapUser(user, null, []));
                    continue;
                }
                users.Add(new BootstrapUser(user, u.String("password"), u.StringList("options")));
                u.WarnUnknown();
            }
        }
        var postBootstrap = s.String("post_bootstrap") ?? s.String("post_init");
        if (method != "initdb") s.Unsupported(method);
        var config = new BootstrapConfig
        {
            DcsJson = dcsJson,
            Method = method,
            Initdb = initdb,
            PgHba = s.StringList("pg_hba"),
            Users = users,
            PostBootstrap = postBootstrap,
        };
        s.WarnUnknown();
        return config;
    }

    /// <summary>
    /// Patroni's process_user_options: a list of "flag" strings and single-key {option: value} maps, or one map;
    /// rendered as "--flag" / "--option=value".
    /// </summary>
    private static IReadOnlyList<string> UserOptions(YamlSection s, string key, string[] notAllowed)
    {
        var node = s.Get(key);
        var flags = new List<string>();
        void Add(string option, string? value, string where)
        {
            if (notAllowed.Contains(option))
                throw new ConfigException(where, $"{where}: option '{option}' is not allowed (PgWarden sets it itself)");
            flags.Add(value is null ? "--" + option : $"--{option}={value}");
        }
        switch (node)
        {
            case null:
                break;
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    if (v is not YamlScalarNode sv) throw s.Expected($"{key}.{YamlJson.KeyText(k)}", v, "a string");
                    if (!string.IsNullOrEmpty(sv.Value)) Add(YamlJson.KeyText(k), sv.Value, s.KeyOf(key));
                }
                break;
            case YamlSequenceNode seq:
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    var where = $"{s.KeyOf(key)}[{i}]";
                    switch (seq.Children[i])
                    {
                        case YamlScalarNode flag:
                            Add(flag.Value ?? "", null, where);
                            break;
                        case YamlMappingNode one when one.Children.Count == 1 && one.Children.First().Value is YamlScalarNode v:
                            Add(YamlJson.KeyText(one.Children.First().Key), v.Value ?? "", where);
                            break;
                        default:
                            throw new ConfigException(where,
                                $"{where}: expected an option name or a single option: value pair");
                    }
                }
                break;
            default:
                throw s.Expected(key, node, "a list of options or a mapping of option: value");
        }
        return flags;
    }

    private static PostgresqlConfig ReadPostgresql(YamlSection s)
    {
        var listen = s.RequiredString("listen");
        Throw(s, "listen", HostPort.Check(s.KeyOf("listen"), listen));
        var connect = s.RequiredString("connect_address");
        Throw(s, "connect_address", HostPort.Check(s.KeyOf("connect_address"), connect));
        var dataDir = s.RequiredString("data_dir");
        var auth = s.RequiredSection("authentication");
        var authentication = new PgAuthentication
        {
            Superuser = ReadPgUser(auth.RequiredSection("superuser")),
            Replication = ReadPgUser(auth.RequiredSection("replication")),
            Rewind = auth.Section("rewind") is { } rewind ? ReadPgUser(rewind) : null,
        };
        auth.WarnUnknown();

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (s.Section("parameters") is { } parameterSection)
        {
            foreach (var name in parameterSection.Keys.ToList())
            {
                var node = parameterSection.Get(name);
                if (node is null) continue;
                if (node is not YamlScalarNode value) throw parameterSection.Expected(name, node, "a parameter value");
                parameters[name] = value.Value ?? "";
            }
        }
        var methods = s.Get("create_replica_methods") is not null ? s.StringList("create_replica_methods")
            : s.Get("create_replica_method") is not null ? s.StringList("create_replica_method") : ["basebackup"];
        s.Accept("use_slots"); // global only: Patroni ignores the local value
        s.Unsupported("proxy_address", "bin_name", "custom_conf", "pre_promote", "before_stop", "krbsrvname", "recovery_min_apply_delay");
        foreach (var method in methods.Where(m => m != "basebackup")) s.Unsupported(method);

        var config = new PostgresqlConfig
        {
            Listen = listen,
            ConnectAddress = connect,
            DataDir = dataDir,
            ConfigDir = s.String("config_dir") is { Length: > 0 } cd ? cd : null,
            BinDir = s.String("bin_dir") ?? "",
            Pgpass = s.String("pgpass"),
            Database = s.String("database") is { Length: > 0 } db ? db : "postgres",
            Authentication = authentication,
            Parameters = parameters,
            PgHba = s.StringList("pg_hba"),
            PgIdent = s.StringList("pg_ident"),
            UseUnixSocket = s.Bool("use_unix_socket", false),
            UseUnixSocketRepl = s.Bool("use_unix_socket_repl", false),
            PgCtlTimeout = s.Int("pg_ctl_timeout", 60),
            UsePgRewind = s.OptionalBool("use_pg_rewind"),
            RemoveDataDirectoryOnRewindFailure = s.Bool("remove_data_directory_on_rewind_failure", false),
            RemoveDataDirectoryOnDivergedTimelines = s.Bool("remove_data_directory_on_diverged_timelines", false),
            Callbacks = s.StringMap("callbacks"),
            CreateReplicaMethods = methods,
            Basebackup = UserOptions(s, "basebackup",
                ["pgdata", "format", "wal-method", "xlog-method", "gzip", "version", "compress", "dbname", "host", "port", "username", "password"]),
            RecoveryConf = s.StringMap("recovery_conf"),
        };
        s.WarnUnknown();
        return config;
    }

    private static readonly string[] OtherLibpqParameters =
        ["sslpassword", "sslcrl", "sslcrldir", "gssencmode", "channel_binding", "sslnegotiation"];

    private static PgUser ReadPgUser(YamlSection s)
    {
        var other = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in OtherLibpqParameters)
            if (s.String(p) is { } v) other[p] = v;
        var user = new PgUser
        {
            Username = s.RequiredString("username"),
            Password = s.String("password"),
            SslMode = s.String("sslmode"),
            SslCert = s.String("sslcert"),
            SslKey = s.String("sslkey"),
            SslRootCert = s.String("sslrootcert"),
            OtherParameters = other,
        };
        s.WarnUnknown();
        return user;
    }

    private static MemberTags ReadTags(YamlSection s)
    {
        var tags = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var key in s.Keys.ToList()) tags[key] = s.Json(key);
        return new MemberTags(tags);
    }

    private static WatchdogConfig ReadWatchdog(YamlSection s)
    {
        // Patroni's parse_mode: plain `off` is YAML false; on/automatic; require(d).
        var raw = s.String("mode");
        var mode = raw?.Trim().ToLowerInvariant() switch
        {
            null => "automatic",
            "off" or "false" or "no" => "off",
            "on" or "true" or "yes" or "automatic" => "automatic",
            "require" or "required" => "required",
            _ => throw new ConfigException(s.KeyOf("mode"), $"{s.KeyOf("mode")}: '{raw}' is not one of off, automatic, required"),
        };
        var config = new WatchdogConfig
        {
            Mode = mode,
            Device = s.String("device") ?? "/dev/watchdog",
            SafetyMargin = s.Int("safety_margin", 5),
        };
        s.Accept("driver");
        s.WarnUnknown();
        return config;
    }

    private static LogConfig ReadLog(YamlSection s)
    {
        var config = new LogConfig
        {
            Level = (s.String("level") ?? "INFO").ToUpperInvariant(),
            Type = s.String("type") ?? "plain",
            Dir = s.String("dir"),
        };
        s.Accept("traceback_level", "format", "dateformat", "static_fields", "max_queue_size", "mode", "file_num",
            "file_size", "loggers", "deduplicate_heartbeat_logs");
        s.WarnUnknown();
        return config;
    }

    private static void Throw(YamlSection s, string key, string? error)
    {
        if (error is not null) throw new ConfigException(s.KeyOf(key), error);
    }
}
