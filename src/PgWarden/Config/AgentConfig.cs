namespace PgWarden.Config;

/// <summary>
/// The local configuration of one agent: Patroni's YAML file (plus PATRONI_* environment overrides),
/// as an immutable snapshot. Keys keep Patroni's names; see docs/configuration.md.
/// </summary>
public sealed record AgentConfig
{
    public required string Scope { get; init; }
    /// <summary>Normalised to "/name/" form (default "/service/").</summary>
    public string Namespace { get; init; } = "/service/";
    public required string Name { get; init; }
    public required RestApiConfig RestApi { get; init; }
    public EtcdConfig? Etcd3 { get; init; }
    /// <summary>The etcd: section (etcd's v2 keys API).</summary>
    public EtcdConfig? Etcd { get; init; }
    public ZooKeeperConfig? ZooKeeper { get; init; }
    public CtlConfig? Ctl { get; init; }
    public BootstrapConfig? Bootstrap { get; init; }
    public required PostgresqlConfig Postgresql { get; init; }
    public MemberTags Tags { get; init; } = MemberTags.Empty;
    public WatchdogConfig Watchdog { get; init; } = new();
    public LogConfig Log { get; init; } = new();
    /// <summary>Where the file came from (null when assembled only from the environment).</summary>
    public string? SourcePath { get; init; }
}

public sealed record RestApiConfig
{
    /// <summary>host:port the REST API binds to.</summary>
    public required string Listen { get; init; }
    /// <summary>host:port published as api_url (defaults to Listen).</summary>
    public required string ConnectAddress { get; init; }
    public Credentials? Authentication { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? KeyFilePassword { get; init; }
    public string? CaFile { get; init; }
    public string VerifyClient { get; init; } = "none";
    public IReadOnlyList<string> Allowlist { get; init; } = [];
    public bool AllowlistIncludeMembers { get; init; }
    public IReadOnlyDictionary<string, string> HttpExtraHeaders { get; init; } = new Dictionary<string, string>();
}

public sealed record CtlConfig
{
    public Credentials? Authentication { get; init; }
    public bool Insecure { get; init; }
    public string? CaCert { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? KeyFilePassword { get; init; }
}

public sealed record Credentials(string Username, string? Password)
{
    /// <summary>Never prints the password (records print every member by default).</summary>
    public override string ToString() => $"Credentials {{ Username = {Username}, Password = {(Password is null ? "null" : "***")} }}";
}

/// <summary>The etcd3 or etcd (v2) section: both take the same keys.</summary>
public sealed record EtcdConfig
{
    /// <summary>host:port entries, from host, hosts (list or comma string) or url.</summary>
    public required IReadOnlyList<string> Hosts { get; init; }
    public string Protocol { get; init; } = "http";
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? CaCert { get; init; }
    public string? Cert { get; init; }
    public string? Key { get; init; }
}

/// <summary>The zookeeper: section.</summary>
public sealed record ZooKeeperConfig
{
    /// <summary>host:port entries (port defaults to 2181), from a list or a comma string.</summary>
    public required IReadOnlyList<string> Hosts { get; init; }
    public bool UseSsl { get; init; }
    public string? CaCert { get; init; }
    public string? Cert { get; init; }
    public string? Key { get; init; }
    public string? KeyPassword { get; init; }
    public bool Verify { get; init; } = true;
}

public sealed record BootstrapConfig
{
    /// <summary>bootstrap.dcs as JSON text (written to the config key once, after bootstrap).</summary>
    public string? DcsJson { get; init; }
    public string Method { get; init; } = "initdb";
    /// <summary>initdb options, already rendered as command-line flags ("--data-checksums", "--encoding=UTF8").</summary>
    public IReadOnlyList<string> Initdb { get; init; } = [];
    public IReadOnlyList<string> PgHba { get; init; } = [];
    public IReadOnlyList<BootstrapUser> Users { get; init; } = [];
    public string? PostBootstrap { get; init; }
}

public sealed record BootstrapUser(string Name, string? Password, IReadOnlyList<string> Options);

public sealed record PostgresqlConfig
{
    /// <summary>host[,host2...]:port</summary>
    public required string Listen { get; init; }
    /// <summary>host:port published in conn_url.</summary>
    public required string ConnectAddress { get; init; }
    public required string DataDir { get; init; }
    public string? ConfigDir { get; init; }
    /// <summary>"" means use PATH.</summary>
    public string BinDir { get; init; } = "";
    public string? Pgpass { get; init; }
    public string Database { get; init; } = "postgres";
    public required PgAuthentication Authentication { get; init; }
    /// <summary>Local parameters, values as strings (YAML scalars are kept as written).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> PgHba { get; init; } = [];
    public IReadOnlyList<string> PgIdent { get; init; } = [];
    public bool UseUnixSocket { get; init; }
    public bool UseUnixSocketRepl { get; init; }
    public int PgCtlTimeout { get; init; } = 60;
    /// <summary>Local override of the dynamic value; null = take the dynamic one.</summary>
    public bool? UsePgRewind { get; init; }
    public bool RemoveDataDirectoryOnRewindFailure { get; init; }
    public bool RemoveDataDirectoryOnDivergedTimelines { get; init; }
    public IReadOnlyDictionary<string, string> Callbacks { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> CreateReplicaMethods { get; init; } = ["basebackup"];
    /// <summary>Extra pg_basebackup long options, rendered as flags.</summary>
    public IReadOnlyList<string> Basebackup { get; init; } = [];
    public IReadOnlyDictionary<string, string> RecoveryConf { get; init; } = new Dictionary<string, string>();

    public string EffectiveConfigDir => string.IsNullOrEmpty(ConfigDir) ? DataDir : ConfigDir;
}

public sealed record PgAuthentication
{
    public required PgUser Superuser { get; init; }
    public required PgUser Replication { get; init; }
    /// <summary>Defaults to the superuser when absent.</summary>
    public PgUser? Rewind { get; init; }
}

public sealed record PgUser
{
    public required string Username { get; init; }
    public string? Password { get; init; }
    public string? SslMode { get; init; }
    public string? SslCert { get; init; }
    public string? SslKey { get; init; }
    public string? SslRootCert { get; init; }
    /// <summary>Other libpq connection parameters Patroni accepts here: sslpassword, sslcrl, sslcrldir, gssencmode,
    /// channel_binding, sslnegotiation.</summary>
    public IReadOnlyDictionary<string, string> OtherParameters { get; init; } = new Dictionary<string, string>();
}

public sealed record WatchdogConfig
{
    public string Mode { get; init; } = "automatic";
    public string Device { get; init; } = "/dev/watchdog";
    public int SafetyMargin { get; init; } = 5;
}

public sealed record LogConfig
{
    public string Level { get; init; } = "INFO";
    public string Type { get; init; } = "plain";
    public string? Dir { get; init; }
}
