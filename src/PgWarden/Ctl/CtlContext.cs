using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// What a control command needs: the cluster name and a DCS client, from the same YAML file as the agent (or a
/// patronictl.yaml that only has scope and a DCS section), or from --dcs-url.
/// </summary>
public sealed record CtlContext(string? Scope, string Namespace, EtcdConfig? Etcd, CtlConfig? Ctl)
{
    /// <summary>The etcd: (v2) section, when that is the store.</summary>
    public EtcdConfig? EtcdV2 { get; init; }
    public ZooKeeperConfig? ZooKeeper { get; init; }
    /// <summary>The restapi: section when the file is an agent's: its authentication and cafile are the fallbacks
    /// for ctl.authentication and ctl.cacert (compat §2.12).</summary>
    public RestApiConfig? RestApi { get; init; }

    /// <summary>patronictl's -k/--insecure: do not verify the members' REST API certificates.</summary>
    public static readonly System.CommandLine.Option<bool> InsecureOption = new("--insecure", "-k")
    {
        Description = "Allow connections to the REST API over HTTPS without verifying its certificate",
        Recursive = true,
    };

    /// <summary>An HTTP client for the members' REST APIs with the CLI's TLS and credential rules.</summary>
    public HttpClient RestHttp(bool insecure, TimeSpan timeout) => new(Api.RestClientSettings.Handler(Ctl, RestApi, daemon: false, insecure, TimeSpan.FromSeconds(5)))
    {
        Timeout = timeout,
    };

    public System.Net.Http.Headers.AuthenticationHeaderValue? RestAuth => Api.RestClientSettings.BasicAuth(Ctl, RestApi);

    public const string DefaultConfigPath = "~/.config/patroni/patronictl.yaml";

    public static CtlContext Load(string? configPath, string? dcsUrl)
    {
        configPath ??= Environment.GetEnvironmentVariable("PATRONICTL_CONFIG_FILE");
        var explicitFile = configPath is not null;
        configPath ??= DefaultConfigPath.Replace("~", Environment.GetEnvironmentVariable("HOME") ?? "/root", StringComparison.Ordinal);
        dcsUrl ??= Environment.GetEnvironmentVariable("DCS_URL");

        string? scope = null;
        var ns = "/service/";
        EtcdConfig? etcd = null, etcdV2 = null;
        ZooKeeperConfig? zookeeper = null;
        CtlConfig? ctl = null;
        RestApiConfig? restApi = null;
        if (File.Exists(configPath) || Directory.Exists(configPath))
        {
            try
            {
                var config = ConfigLoader.Load(configPath, new Dictionary<string, string?>(), new List<string>());
                (scope, ns, etcd, ctl) = (config.Scope, config.Namespace, config.Etcd3, config.Ctl);
                (etcdV2, zookeeper, restApi) = (config.Etcd, config.ZooKeeper, config.RestApi);
            }
            catch (ConfigException)
            {
                // A patronictl.yaml holds only what the CLI needs: read just that.
                var node = YamlJson.FromYaml(File.ReadAllText(configPath)) as JsonObject ?? [];
                scope = node["scope"]?.ToString();
                ns = "/" + (node["namespace"]?.ToString() ?? "service").Trim('/') + "/";
                etcd = EtcdFromJson(node["etcd3"] as JsonObject);
                etcdV2 = EtcdFromJson(node["etcd"] as JsonObject);
                zookeeper = ZooKeeperFromJson(node["zookeeper"] as JsonObject);
            }
        }
        else if (explicitFile)
        {
            throw new ConfigException("config", $"config file {configPath} does not exist");
        }

        if (dcsUrl is not null)
        {
            // --dcs-url replaces whatever store the file named.
            var (kind, hosts, urlNs) = ParseDcsUrl(dcsUrl, ns);
            ns = urlNs;
            (etcd, etcdV2, zookeeper) = kind switch
            {
                DcsKind.Etcd => ((EtcdConfig?)null, new EtcdConfig { Hosts = hosts }, (ZooKeeperConfig?)null),
                DcsKind.ZooKeeper => (null, null, new ZooKeeperConfig { Hosts = hosts }),
                _ => (new EtcdConfig { Hosts = hosts }, null, null),
            };
        }
        if (etcd is null && etcdV2 is null && zookeeper is null)
            throw new ConfigException("etcd3", "no DCS is configured: give -c FILE with an etcd3, etcd or zookeeper section, or --dcs-url etcd3://host:2379");
        return new CtlContext(scope, ns, etcd, ctl) { EtcdV2 = etcdV2, ZooKeeper = zookeeper, RestApi = restApi };
    }

    /// <summary>
    /// --dcs-url [scheme://]host[:port][/namespace] (patronictl's form): etcd3:// (the default), etcd:// (v2),
    /// zookeeper:// (port 2181).
    /// </summary>
    internal static (DcsKind Kind, IReadOnlyList<string> Hosts, string Namespace) ParseDcsUrl(string url, string ns)
    {
        var withScheme = url.Contains("://", StringComparison.Ordinal) ? url : "etcd3://" + url;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("etcd3" or "etcd" or "zookeeper"))
            throw new ConfigException("--dcs-url", $"--dcs-url '{url}' is not [etcd3://|etcd://|zookeeper://]host[:port][/namespace]");
        var kind = DcsKinds.Parse(uri.Scheme);
        var defaultPort = kind == DcsKind.ZooKeeper ? 2181 : 2379;
        var port = uri.IsDefaultPort || uri.Port <= 0 ? defaultPort : uri.Port;
        var path = uri.AbsolutePath.Trim('/');
        return (kind, [$"{uri.Host}:{port}"], path.Length > 0 ? "/" + path + "/" : ns);
    }

    private static ZooKeeperConfig? ZooKeeperFromJson(JsonObject? o)
    {
        if (o is null) return null;
        var hosts = new List<string>();
        if (o["hosts"] is JsonArray arr) hosts.AddRange(arr.Select(h => h!.ToString()));
        else if (o["hosts"] is { } s) hosts.AddRange(s.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        return hosts.Count == 0 ? null : new ZooKeeperConfig { Hosts = hosts.Select(h => HostPort.WithDefaultPort(h, 2181)).ToList() };
    }

    private static EtcdConfig? EtcdFromJson(JsonObject? o)
    {
        if (o is null) return null;
        var hosts = new List<string>();
        if (o["hosts"] is JsonArray arr) hosts.AddRange(arr.Select(h => h!.ToString()));
        else if (o["hosts"] is { } s) hosts.AddRange(s.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        if (o["host"] is { } h1) hosts.Add(h1.ToString());
        // Credentials and TLS files too: without them the CLI cannot reach an etcd that the agents reach.
        return hosts.Count == 0 ? null : new EtcdConfig
        {
            Hosts = hosts,
            Protocol = o["protocol"]?.ToString() ?? "http",
            Username = (o["username"] ?? o["user"])?.ToString(),
            Password = o["password"]?.ToString(),
            CaCert = o["cacert"]?.ToString(),
            Cert = o["cert"]?.ToString(),
            Key = o["key"]?.ToString(),
        };
    }

    public string ClusterName(string? argument) =>
        argument ?? Scope ?? throw new ConfigException("scope", "no cluster name: give CLUSTER_NAME or a config file with scope");

    public IDcs OpenDcs(string cluster, ILoggerFactory loggers)
    {
        var config = new AgentConfig
        {
            Scope = cluster,
            Namespace = Namespace,
            Name = "pgwarden-ctl",
            RestApi = new RestApiConfig { Listen = "127.0.0.1:0", ConnectAddress = "127.0.0.1:0" },
            Etcd3 = Etcd,
            Etcd = EtcdV2,
            ZooKeeper = ZooKeeper,
            Postgresql = new PostgresqlConfig
            {
                Listen = "127.0.0.1:5432", ConnectAddress = "127.0.0.1:5432", DataDir = "/nonexistent",
                Authentication = new PgAuthentication { Superuser = new PgUser { Username = "postgres" }, Replication = new PgUser { Username = "replicator" } },
            },
        };
        return DcsFactory.ForCli(config, TimeProvider.System, loggers);
    }
}
