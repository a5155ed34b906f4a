using PgWarden.Dcs;
using System.Text.Json.Nodes;
using PgWarden.Config;

namespace PgWarden.Tests.Config;

public class ConfigLoaderTests
{
    // A realistic file in the shape of Patroni's postgres0.yml, with etcd3.
    internal const string FullExample = """
        scope: batman
        namespace: /service/
        name: postgresql0

        restapi:
          listen: 127.0.0.1:8008
          connect_address: 127.0.0.1:8008
          authentication:
            username: username
            password: password

        ctl:
          insecure: false
          authentication:
            username: username
            password: password

        etcd3:
          hosts:
          - 127.0.0.1:2379
          - 127.0.0.2:2379
          protocol: http

        log:
          level: INFO
          format: '%(asctime)s %(levelname)s: %(message)s'

        bootstrap:
          dcs:
            ttl: 30
            loop_wait: 10
            retry_timeout: 10
            maximum_lag_on_failover: 1048576
            postgresql:
              use_pg_rewind: true
              use_slots: true
              parameters:
                wal_level: replica
                hot_standby: 'on'
                max_connections: 100
                wal_log_hints: on
                shared_buffers: 128MB
          initdb:
          - encoding: UTF8
          - data-checksums
          - locale: C.UTF-8
          pg_hba:
          - host replication replicator 127.0.0.1/32 md5
          - host all all 0.0.0.0/0 md5
          users:
            admin:
              password: admin%
              options:
                - createrole
                - createdb

        postgresql:
          listen: 127.0.0.1:5432
          connect_address: 127.0.0.1:5432
          data_dir: data/postgresql0
          bin_dir: /usr/lib/postgresql/15/bin
          pgpass: /tmp/pgpass0
          authentication:
            replication:
              username: replicator
              password: rep-pass
            superuser:
              username: postgres
              password: 0123
              sslmode: prefer
              channel_binding: prefer
            rewind:
              username: rewind_user
              password: rewind_password
          parameters:
            unix_socket_directories: '..'
            work_mem: 8MB
            max_parallel_workers: 4
            jit: off
          pg_hba:
          - local all all trust
          callbacks:
            on_role_change: /usr/local/bin/role-change.sh
          basebackup:
          - verbose
          - max-rate: 100M

        watchdog:
          mode: off

        tags:
          nofailover: false
          noloadbalance: false
          clonefrom: false
          nosync: false
          zone: eu-1
          weight: 3
        """;

    private static readonly Dictionary<string, string?> NoEnvironment = new();

    private static AgentConfig LoadText(string yaml, IReadOnlyDictionary<string, string?>? env = null, List<string>? warnings = null)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("patroni.yml", yaml);
        return ConfigLoader.Load(file, env ?? NoEnvironment, warnings ?? []);
    }

    internal static Dictionary<string, string?> MinimalEnvironment() => new()
    {
        ["PATRONI_SCOPE"] = "demo",
        ["PATRONI_NAME"] = "node1",
        ["PATRONI_RESTAPI_LISTEN"] = "127.0.0.11:8008",
        ["PATRONI_ETCD3_HOSTS"] = "127.0.0.1:2379,127.0.0.2:2379",
        ["PATRONI_POSTGRESQL_LISTEN"] = "127.0.0.11:5432",
        ["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] = "127.0.0.11:5432",
        ["PATRONI_POSTGRESQL_DATA_DIR"] = "/var/lib/pgwarden/node1",
        ["PATRONI_SUPERUSER_USERNAME"] = "postgres",
        ["PATRONI_REPLICATION_USERNAME"] = "replicator",
    };

    [Fact]
    public void FullExample_MapsEverySection()
    {
        var warnings = new List<string>();
        var c = LoadText(FullExample, warnings: warnings);

        Assert.Equal("batman", c.Scope);
        Assert.Equal("/service/", c.Namespace);
        Assert.Equal("postgresql0", c.Name);
        Assert.Equal("127.0.0.1:8008", c.RestApi.Listen);
        Assert.Equal(new Credentials("username", "password"), c.RestApi.Authentication);
        Assert.Equal(new Credentials("username", "password"), c.Ctl!.Authentication);
        Assert.False(c.Ctl.Insecure);
        Assert.Equal(["127.0.0.1:2379", "127.0.0.2:2379"], c.Etcd3!.Hosts);
        Assert.Equal("http", c.Etcd3.Protocol);
        Assert.Equal("INFO", c.Log.Level);

        var b = c.Bootstrap!;
        Assert.Equal(["--encoding=UTF8", "--data-checksums", "--locale=C.UTF-8"], b.Initdb);
        Assert.Equal(["host replication replicator 127.0.0.1/32 md5", "host all all 0.0.0.0/0 md5"], b.PgHba);
        var admin = Assert.Single(b.Users);
        Assert.Equal("admin", admin.Name);
        Assert.Equal("admin%", admin.Password);
        Assert.Equal(["createrole", "createdb"], admin.Options);
        var dcs = JsonNode.Parse(b.DcsJson!)!;
        Assert.Equal(30, (int)dcs["ttl"]!);
        Assert.True((bool)dcs["postgresql"]!["use_pg_rewind"]!);
        Assert.Equal("on", (string)dcs["postgresql"]!["parameters"]!["hot_standby"]!);   // quoted: a string
        Assert.True((bool)dcs["postgresql"]!["parameters"]!["wal_log_hints"]!);          // plain on: a bool, as in PyYAML
        Assert.Equal(100, (int)dcs["postgresql"]!["parameters"]!["max_connections"]!);
        Assert.Equal("128MB", (string)dcs["postgresql"]!["parameters"]!["shared_buffers"]!);

        var pg = c.Postgresql;
        Assert.Equal("127.0.0.1:5432", pg.Listen);
        Assert.Equal("data/postgresql0", pg.DataDir);
        Assert.Equal("data/postgresql0", pg.EffectiveConfigDir);
        Assert.Equal("/usr/lib/postgresql/15/bin", pg.BinDir);
        Assert.Equal("/tmp/pgpass0", pg.Pgpass);
        Assert.Equal("postgres", pg.Authentication.Superuser.Username);
        Assert.Equal("0123", pg.Authentication.Superuser.Password);   // as written, not PyYAML's octal 83
        Assert.Equal("prefer", pg.Authentication.Superuser.SslMode);
        Assert.Equal("prefer", pg.Authentication.Superuser.OtherParameters["channel_binding"]);
        Assert.Equal("replicator", pg.Authentication.Replication.Username);
        Assert.Equal("rewind_user", pg.Authentication.Rewind!.Username);
        Assert.Equal("..", pg.Parameters["unix_socket_directories"]);
        Assert.Equal("4", pg.Parameters["max_parallel_workers"]);
        Assert.Equal("off", pg.Parameters["jit"]);
        Assert.Equal(["local all all trust"], pg.PgHba);
        Assert.Equal("/usr/local/bin/role-change.sh", pg.Callbacks["on_role_change"]);
        Assert.Equal(["--verbose", "--max-rate=100M"], pg.Basebackup);
        Assert.Equal(["basebackup"], pg.CreateReplicaMethods);
        Assert.Null(pg.UsePgRewind);

        Assert.Equal("off", c.Watchdog.Mode);
        Assert.False(c.Tags.NoFailover);
        Assert.Equal("eu-1", (string)c.Tags.Raw["zone"]!);
        Assert.Equal(3, (int)c.Tags.Raw["weight"]!);
        Assert.Empty(warnings);
    }

    [Fact]
    public void EnvironmentOnly_BuildsACompleteConfig()
    {
        var warnings = new List<string>();
        var c = ConfigLoader.Load(null, MinimalEnvironment(), warnings);
        Assert.Equal("demo", c.Scope);
        Assert.Equal("node1", c.Name);
        Assert.Equal("/service/", c.Namespace);
        Assert.Equal("127.0.0.11:8008", c.RestApi.Listen);
        Assert.Equal("127.0.0.11:8008", c.RestApi.ConnectAddress);   // defaults to listen
        Assert.Equal(["127.0.0.1:2379", "127.0.0.2:2379"], c.Etcd3!.Hosts);
        Assert.Equal("/var/lib/pgwarden/node1", c.Postgresql.DataDir);
        Assert.Equal("postgres", c.Postgresql.Authentication.Superuser.Username);
        Assert.Null(c.SourcePath);
        Assert.Null(c.Bootstrap);
        Assert.Empty(warnings);
    }

    [Fact]
    public void PartialFile_PlusEnvironment_EnvironmentWins()
    {
        const string partial = """
            scope: demo
            restapi:
              listen: 0.0.0.0:8008
            etcd3:
              host: 127.0.0.1:2379
            postgresql:
              data_dir: /data/pg
              parameters:
                work_mem: 4MB
              authentication:
                superuser: {username: postgres}
                replication: {username: replicator}
            """;
        var env = new Dictionary<string, string?>
        {
            ["PATRONI_NAME"] = "node2",
            ["PATRONI_RESTAPI_CONNECT_ADDRESS"] = "127.0.0.12:8008",
            ["PATRONI_POSTGRESQL_LISTEN"] = "127.0.0.12:5432",
            ["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] = "127.0.0.12:5432",
            ["PATRONI_SUPERUSER_PASSWORD"] = "secret",
            ["PATRONI_SCOPE"] = "override",
        };
        var c = LoadText(partial, env);
        Assert.Equal("override", c.Scope);
        Assert.Equal("node2", c.Name);
        Assert.Equal("0.0.0.0:8008", c.RestApi.Listen);
        Assert.Equal("127.0.0.12:8008", c.RestApi.ConnectAddress);
        Assert.Equal("127.0.0.12:5432", c.Postgresql.ConnectAddress);
        // the env password merges into the file's superuser mapping, the username stays
        Assert.Equal("postgres", c.Postgresql.Authentication.Superuser.Username);
        Assert.Equal("secret", c.Postgresql.Authentication.Superuser.Password);
        Assert.Equal("4MB", c.Postgresql.Parameters["work_mem"]);
        Assert.EndsWith("patroni.yml", c.SourcePath);
    }

    public static TheoryData<string, string, string> EnvironmentVariables => new()
    {
        // variable, value, what the loaded config shows ("property=value")
        { "PATRONI_NAMESPACE", "pgw", "Namespace=/pgw/" },
        { "PATRONI_RESTAPI_LISTEN", "127.0.0.5:8009", "RestApi.Listen=127.0.0.5:8009" },
        { "PATRONI_RESTAPI_USERNAME", "api", "RestApi.Authentication.Username=api" },
        { "PATRONI_RESTAPI_CERTFILE", "/etc/cert.pem", "RestApi.CertFile=/etc/cert.pem" },
        { "PATRONI_RESTAPI_KEYFILE", "/etc/key.pem", "RestApi.KeyFile=/etc/key.pem" },
        { "PATRONI_RESTAPI_CAFILE", "/etc/ca.pem", "RestApi.CaFile=/etc/ca.pem" },
        { "PATRONI_RESTAPI_VERIFY_CLIENT", "optional", "RestApi.VerifyClient=optional" },
        { "PATRONI_RESTAPI_ALLOWLIST", "127.0.0.1,10.0.0.0/8", "RestApi.Allowlist=127.0.0.1|10.0.0.0/8" },
        { "PATRONI_RESTAPI_ALLOWLIST_INCLUDE_MEMBERS", "on", "RestApi.AllowlistIncludeMembers=True" },
        { "PATRONI_RESTAPI_HTTP_EXTRA_HEADERS", "X-Frame-Options: SAMEORIGIN", "RestApi.HttpExtraHeaders[X-Frame-Options]=SAMEORIGIN" },
        { "PATRONI_CTL_INSECURE", "yes", "Ctl.Insecure=True" },
        { "PATRONI_CTL_CACERT", "/etc/ca.pem", "Ctl.CaCert=/etc/ca.pem" },
        { "PATRONI_CTL_CERTFILE", "/etc/c.pem", "Ctl.CertFile=/etc/c.pem" },
        { "PATRONI_CTL_KEYFILE", "/etc/k.pem", "Ctl.KeyFile=/etc/k.pem" },
        { "PATRONI_CTL_USERNAME", "ctl", "Ctl.Authentication.Username=ctl" },
        { "PATRONI_ETCD3_HOSTS", "['e1:2379', 'e2:2380']", "Etcd3.Hosts=e1:2379|e2:2380" },
        { "PATRONI_ETCD3_HOSTS", "e1,e2:2380", "Etcd3.Hosts=e1:2379|e2:2380" },
        { "PATRONI_ETCD3_PROTOCOL", "https", "Etcd3.Protocol=https" },
        { "PATRONI_ETCD3_USERNAME", "etcduser", "Etcd3.Username=etcduser" },
        { "PATRONI_ETCD3_PASSWORD", "etcdpass", "Etcd3.Password=etcdpass" },
        { "PATRONI_ETCD3_CACERT", "/etc/etcd-ca.pem", "Etcd3.CaCert=/etc/etcd-ca.pem" },
        { "PATRONI_ETCD3_CERT", "/etc/etcd.pem", "Etcd3.Cert=/etc/etcd.pem" },
        { "PATRONI_ETCD3_KEY", "/etc/etcd.key", "Etcd3.Key=/etc/etcd.key" },
        { "PATRONI_POSTGRESQL_CONFIG_DIR", "/etc/pg", "Postgresql.ConfigDir=/etc/pg" },
        { "PATRONI_POSTGRESQL_BIN_DIR", "/usr/lib/postgresql/15/bin", "Postgresql.BinDir=/usr/lib/postgresql/15/bin" },
        { "PATRONI_POSTGRESQL_PGPASS", "/tmp/pgpass", "Postgresql.Pgpass=/tmp/pgpass" },
        { "PATRONI_SUPERUSER_PASSWORD", "su", "Postgresql.Authentication.Superuser.Password=su" },
        { "PATRONI_SUPERUSER_SSLMODE", "require", "Postgresql.Authentication.Superuser.SslMode=require" },
        { "PATRONI_REPLICATION_PASSWORD", "rep", "Postgresql.Authentication.Replication.Password=rep" },
        { "PATRONI_REPLICATION_SSLROOTCERT", "/ca", "Postgresql.Authentication.Replication.SslRootCert=/ca" },
        { "PATRONI_REWIND_USERNAME", "rewinder", "Postgresql.Authentication.Rewind.Username=rewinder" },
        { "PATRONI_LOG_LEVEL", "debug", "Log.Level=DEBUG" },
        { "PATRONI_LOGLEVEL", "WARNING", "Log.Level=WARNING" },
        { "PATRONI_LOG_DIR", "/var/log/pgw", "Log.Dir=/var/log/pgw" },
    };

    [Theory]
    [MemberData(nameof(EnvironmentVariables))]
    public void EachEnvironmentVariable_OverridesItsKey(string variable, string value, string expectation)
    {
        var env = MinimalEnvironment();
        env[variable] = value;
        var c = ConfigLoader.Load(null, env, new List<string>());
        var (property, expected) = (expectation[..expectation.IndexOf('=')], expectation[(expectation.IndexOf('=') + 1)..]);
        Assert.Equal(expected, Show(c, property));
    }

    private static string? Show(AgentConfig c, string property) => property switch
    {
        "Namespace" => c.Namespace,
        "RestApi.Listen" => c.RestApi.Listen,
        "RestApi.Authentication.Username" => c.RestApi.Authentication?.Username,
        "RestApi.CertFile" => c.RestApi.CertFile,
        "RestApi.KeyFile" => c.RestApi.KeyFile,
        "RestApi.CaFile" => c.RestApi.CaFile,
        "RestApi.VerifyClient" => c.RestApi.VerifyClient,
        "RestApi.Allowlist" => string.Join('|', c.RestApi.Allowlist),
        "RestApi.AllowlistIncludeMembers" => c.RestApi.AllowlistIncludeMembers.ToString(),
        "RestApi.HttpExtraHeaders[X-Frame-Options]" => c.RestApi.HttpExtraHeaders["X-Frame-Options"],
        "Ctl.Insecure" => c.Ctl?.Insecure.ToString(),
        "Ctl.CaCert" => c.Ctl?.CaCert,
        "Ctl.CertFile" => c.Ctl?.CertFile,
        "Ctl.KeyFile" => c.Ctl?.KeyFile,
        "Ctl.Authentication.Username" => c.Ctl?.Authentication?.Username,
        "Etcd3.Hosts" => string.Join('|', c.Etcd3!.Hosts),
        "Etcd3.Protocol" => c.Etcd3!.Protocol,
        "Etcd3.Username" => c.Etcd3!.Username,
        "Etcd3.Password" => c.Etcd3!.Password,
        "Etcd3.CaCert" => c.Etcd3!.CaCert,
        "Etcd3.Cert" => c.Etcd3!.Cert,
        "Etcd3.Key" => c.Etcd3!.Key,
        "Postgresql.ConfigDir" => c.Postgresql.ConfigDir,
        "Postgresql.BinDir" => c.Postgresql.BinDir,
        "Postgresql.Pgpass" => c.Postgresql.Pgpass,
        "Postgresql.Authentication.Superuser.Password" => c.Postgresql.Authentication.Superuser.Password,
        "Postgresql.Authentication.Superuser.SslMode" => c.Postgresql.Authentication.Superuser.SslMode,
        "Postgresql.Authentication.Replication.Password" => c.Postgresql.Authentication.Replication.Password,
        "Postgresql.Authentication.Replication.SslRootCert" => c.Postgresql.Authentication.Replication.SslRootCert,
        "Postgresql.Authentication.Rewind.Username" => c.Postgresql.Authentication.Rewind?.Username,
        "Log.Level" => c.Log.Level,
        "Log.Dir" => c.Log.Dir,
        _ => throw new ArgumentException("no accessor for " + property),
    };

    public static TheoryData<string, string> EtcdEndpoints => new()
    {
        { "hosts:\n    - 10.0.0.1:2379\n    - 10.0.0.2", "http|10.0.0.1:2379,10.0.0.2:2379" },
        { "hosts: 10.0.0.1:2379,10.0.0.2:2380", "http|10.0.0.1:2379,10.0.0.2:2380" },
        { "hosts: '10.0.0.1'", "http|10.0.0.1:2379" },
        { "host: etcd.local", "http|etcd.local:2379" },
        { "host: etcd.local\n  port: 2399", "http|etcd.local:2399" },
        { "url: https://etcd.local:2400", "https|etcd.local:2400" },
        { "url: http://user:pw@etcd.local", "http|etcd.local:2379" },
        { "hosts: ['[::1]:2379', '::2']", "http|[::1]:2379,[::2]:2379" },
    };

    [Theory]
    [MemberData(nameof(EtcdEndpoints))]
    public void Etcd3Endpoints_BecomeHostPortList(string etcdYaml, string expected)
    {
        var c = LoadText(MinimalFile(etcd: etcdYaml));
        Assert.Equal(expected, c.Etcd3!.Protocol + "|" + string.Join(',', c.Etcd3.Hosts));
    }

    [Theory]
    [InlineData("hosts:\n    - zk1:2181\n    - zk2", "zk1:2181,zk2:2181")]
    [InlineData("hosts: zk1,zk2:2182, zk3", "zk1:2181,zk2:2182,zk3:2181")]
    [InlineData("hosts: '127.0.5.51:2181'", "127.0.5.51:2181")]
    public void ZooKeeperHosts_BecomeHostPortList(string zkYaml, string expected)
    {
        var c = LoadText(MinimalFile().Replace("etcd3:\n  hosts: 127.0.0.1:2379\n", "zookeeper:\n  " + zkYaml + "\n", StringComparison.Ordinal));
        Assert.Null(c.Etcd3);
        Assert.Equal(expected, string.Join(',', c.ZooKeeper!.Hosts));
        Assert.Equal(DcsKind.ZooKeeper, DcsFactory.KindOf(c));
    }

    [Fact]
    public void EtcdSection_IsTheV2Store_AndWinsOverEtcd3LikePatroni()
    {
        var c = LoadText(MinimalFile() + "etcd:\n  host: 10.0.0.9\n  username: u\n  password: p\n");
        Assert.Equal(["10.0.0.9:2379"], c.Etcd!.Hosts);
        Assert.Equal("u", c.Etcd.Username);
        Assert.NotNull(c.Etcd3);
        Assert.Equal(DcsKind.Etcd, DcsFactory.KindOf(c));
    }

    [Fact]
    public void ZooKeeperAndEtcdV2_FromTheEnvironment()
    {
        var env = MinimalEnvironment();
        env.Remove("PATRONI_ETCD3_HOSTS");
        env["PATRONI_ZOOKEEPER_HOSTS"] = "'zk1:2181','zk2:2181'";
        var warnings = new List<string>();
        var c = ConfigLoader.Load(null, env, warnings);
        Assert.Equal(["zk1:2181", "zk2:2181"], c.ZooKeeper!.Hosts);
        Assert.Empty(warnings);

        env.Remove("PATRONI_ZOOKEEPER_HOSTS");
        env["PATRONI_ETCD_HOSTS"] = "e1:2379,e2:2379";
        env["PATRONI_ETCD_USERNAME"] = "root";
        env["PATRONI_ETCD_PASSWORD"] = "pw";
        c = ConfigLoader.Load(null, env, warnings);
        Assert.Equal(["e1:2379", "e2:2379"], c.Etcd!.Hosts);
        Assert.Equal(("root", "pw"), (c.Etcd.Username, c.Etcd.Password));
        Assert.Equal(DcsKind.Etcd, DcsFactory.KindOf(c));
    }

    [Fact]
    public void EtcdUrl_WithCredentials_SetsUsernameAndPassword()
    {
        var c = LoadText(MinimalFile(etcd: "url: http://user:p%40ss@etcd.local:2379"));
        Assert.Equal("user", c.Etcd3!.Username);
        Assert.Equal("p@ss", c.Etcd3.Password);
    }

    [Theory]
    [InlineData("service", "/service/")]
    [InlineData("/service", "/service/")]
    [InlineData("//a//b/", "/a/b/")]
    public void Namespace_IsNormalised(string ns, string expected)
    {
        var c = LoadText(MinimalFile() + $"namespace: '{ns}'\n");
        Assert.Equal(expected, c.Namespace);
    }

    [Fact]
    public void UnknownKeys_AreWarnedAndIgnored()
    {
        var warnings = new List<string>();
        var yaml = MinimalFile() + "frobnicate: 1\nrestapi_extra: {}\nttl: 30\n";
        yaml = yaml.Replace("  data_dir: /data/pg\n", "  data_dir: /data/pg\n  shared_bufers: 1\n  pre_promote: /bin/true\n", StringComparison.Ordinal);
        LoadText(yaml, warnings: warnings);
        Assert.Contains("unknown configuration key 'frobnicate' ignored", warnings);
        Assert.Contains("unknown configuration key 'restapi_extra' ignored", warnings);
        Assert.Contains("unknown configuration key 'postgresql.shared_bufers' ignored", warnings);
        Assert.Contains("configuration key 'postgresql.pre_promote' is not supported by PgWarden and ignored", warnings);
        Assert.Contains(warnings, w => w.StartsWith("configuration key 'ttl' is only read from the dynamic configuration", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string> Errors => new()
    {
        // yaml edit (old => new), key, message
        { "scope: demo\n=>", "scope", "scope is required" },
        { "name: node1\n=>", "name", "name is required" },
        { "listen: 127.0.0.1:8008=>listen: 8008", "restapi.listen", "restapi.listen: '8008' is not host:port" },
        { "listen: 127.0.0.1:8008=>listen: 127.0.0.1:80080", "restapi.listen", "restapi.listen: '127.0.0.1:80080' has port 80080, expected 1..65535" },
        { "listen: 127.0.0.1:8008=>listen: [a, b]", "restapi.listen", "restapi.listen: expected a string, got a list" },
        { "  listen: 127.0.0.1:5432\n=>", "postgresql.listen", "postgresql.listen is required" },
        { "  connect_address: 127.0.0.1:5432\n=>", "postgresql.connect_address", "postgresql.connect_address is required" },
        { "  data_dir: /data/pg\n=>", "postgresql.data_dir", "postgresql.data_dir is required" },
        { "superuser: {username: postgres}=>superuser: {password: x}", "postgresql.authentication.superuser.username", "postgresql.authentication.superuser.username is required" },
        { "replication: {username: replicator}=>replication: {}", "postgresql.authentication.replication.username", "postgresql.authentication.replication.username is required" },
        { "etcd3:\n  hosts: 127.0.0.1:2379\n=>consul:\n  host: 127.0.0.1:8500\n", "etcd3", "etcd3: a DCS section is required: 'etcd3' or 'etcd' with host, hosts or url, or 'zookeeper' with hosts (found 'consul', which PgWarden does not support yet)" },
        { "etcd3:\n  hosts: 127.0.0.1:2379\n=>zookeeper:\n  hosts: []\n", "zookeeper.hosts", "zookeeper.hosts: no ZooKeeper server: set hosts to a list of host:port" },
        { "etcd3:\n  hosts: 127.0.0.1:2379\n=>zookeeper:\n  hosts: zk1\n  use_ssl: true\n", "zookeeper.use_ssl", "zookeeper.use_ssl: TLS to ZooKeeper is not supported yet; use a plain-text port" },
        { "  data_dir: /data/pg\n=>  data_dir: /data/pg\n  pg_ctl_timeout: soon\n", "postgresql.pg_ctl_timeout", "postgresql.pg_ctl_timeout: 'soon' is not an integer" },
        { "  data_dir: /data/pg\n=>  data_dir: /data/pg\n  use_pg_rewind: maybe\n", "postgresql.use_pg_rewind", "postgresql.use_pg_rewind: 'maybe' is not a boolean (expected true/false, on/off, yes/no or 1/0)" },
        { "  data_dir: /data/pg\n=>  data_dir: /data/pg\n  pg_hba: local all all trust\n", "postgresql.pg_hba", "postgresql.pg_hba: 'local all all trust' is not a list of strings" },
        { "scope: demo\n=>scope: demo\nbootstrap:\n  initdb: [{pgdata: /x}]\n", "bootstrap.initdb[0]", "bootstrap.initdb[0]: option 'pgdata' is not allowed (PgWarden sets it itself)" },
        { "scope: demo\n=>scope: demo\nbootstrap:\n  dcs: [ttl]\n", "bootstrap.dcs", "bootstrap.dcs: expected a mapping of dynamic configuration keys, got a list" },
        { "scope: demo\n=>scope: demo\nwatchdog: {mode: sometimes}\n", "watchdog.mode", "watchdog.mode: 'sometimes' is not one of off, automatic, required" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void InvalidConfig_ThrowsNamingKeyValueAndExpectation(string edit, string key, string message)
    {
        var parts = edit.Split("=>");
        var yaml = MinimalFile();
        Assert.Contains(parts[0], yaml);
        var e = Assert.Throws<ConfigException>(() => LoadText(yaml.Replace(parts[0], parts[1], StringComparison.Ordinal)));
        Assert.Equal(message, e.Message);
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void Directory_MergesYamlFilesInSortedOrder()
    {
        using var dir = new TempDirectory();
        dir.Write("10-base.yml", MinimalFile());
        dir.Write("20-node.yaml", "name: node9\npostgresql:\n  parameters:\n    work_mem: 16MB\n");
        dir.Write("30-ignored.txt", "name: not-read\n");
        var c = ConfigLoader.Load(dir.Path, NoEnvironment, new List<string>());
        Assert.Equal("node9", c.Name);
        Assert.Equal("16MB", c.Postgresql.Parameters["work_mem"]);
        Assert.Equal("/data/pg", c.Postgresql.DataDir);   // recursive merge kept the base's other postgresql keys
    }

    [Fact]
    public void PatroniConfigurationVariable_IsTheWholeConfig_AndOtherVariablesAreNotApplied()
    {
        var env = new Dictionary<string, string?> { ["PATRONI_CONFIGURATION"] = MinimalFile(), ["PATRONI_NAME"] = "ignored" };
        var c = ConfigLoader.Load(null, env, new List<string>());
        Assert.Equal("node1", c.Name);
    }

    [Fact]
    public void UserPasswordVariable_CreatesBootstrapUser()
    {
        var env = MinimalEnvironment();
        env["PATRONI_admin_PASSWORD"] = "pw";
        env["PATRONI_admin_OPTIONS"] = "createdb,createrole";
        var c = ConfigLoader.Load(null, env, new List<string>());
        var user = Assert.Single(c.Bootstrap!.Users);
        Assert.Equal(new[] { "admin", "pw", "createdb,createrole" }, new[] { user.Name, user.Password, string.Join(',', user.Options) });
    }

    [Fact]
    public void InitdbAsMapping_RendersFlags()
    {
        var c = LoadText(MinimalFile() + "bootstrap:\n  initdb:\n    encoding: UTF8\n    data-checksums: true\n");
        Assert.Equal(["--encoding=UTF8", "--data-checksums=true"], c.Bootstrap!.Initdb);
    }

    [Fact]
    public void MissingPath_Throws()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/patroni.yml", NoEnvironment, new List<string>()));
        Assert.Contains("'/nonexistent/patroni.yml' is neither a file nor a directory", e.Message);
    }

    internal static string MinimalFile(string etcd = "hosts: 127.0.0.1:2379") => $"""
        scope: demo
        name: node1
        restapi:
          listen: 127.0.0.1:8008
        etcd3:
          {etcd}
        postgresql:
          listen: 127.0.0.1:5432
          connect_address: 127.0.0.1:5432
          data_dir: /data/pg
          authentication:
            superuser: {"{"}username: postgres{"}"}
            replication: {"{"}username: replicator{"}"}

        """;
}
