using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PgWarden.Dcs;
using PgWarden.Dcs.ZooKeeper;
using PgWarden.Lab;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// A real cluster on loopback: one DCS (etcd v3 by default; etcd v2 or ZooKeeper with <see cref="DcsKind"/>), N pgwarden agents on 127.0.0.11.. (PostgreSQL 5432, REST 8008), each
/// agent running as its own OS user pgnodeN with a Patroni-format YAML file written by <see cref="NodeConfigTemplate"/>.
/// Disposing stops every agent and postmaster it started and deletes its files.
/// </summary>
public sealed class AgentCluster : IAsyncDisposable
{
    /// <summary>
    /// The address space and OS users of one developer's clusters: etcd on NET.5, nodes on NET.11.., users
    /// PREFIXnodeN. Tests default to 127.0.0 / pg; a developer running beside others sets PGWARDEN_TEST_NET
    /// (e.g. 127.0.2) and PGWARDEN_TEST_USER_PREFIX (e.g. pg2) so clusters and iptables owner rules never collide.
    /// </summary>
    public static string Net { get; } = Environment.GetEnvironmentVariable("PGWARDEN_TEST_NET") ?? "127.0.0";
    public static string UserPrefix { get; } = Environment.GetEnvironmentVariable("PGWARDEN_TEST_USER_PREFIX") ?? "pg";
    public static string EtcdAddress => $"{Net}.5";
    /// <summary>ZooKeeper servers live on NET.51, NET.52, NET.53.</summary>
    public static string ZooKeeperAddress(int index) => $"{Net}.{50 + index}";
    public static string NodeAddress(int index) => $"{Net}.{10 + index}";
    public static string NodeUser(int index) => $"{UserPrefix}node{index}";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    public required string Scope { get; init; }
    public required string Root { get; init; }
    public required string BinDir { get; init; }
    private readonly EtcdCluster? etcd;

    /// <summary>The etcd servers (v3, or v2 with --enable-v2); throws on a ZooKeeper cluster.</summary>
    public EtcdCluster Etcd
    {
        get => etcd ?? throw new InvalidOperationException($"cluster {Scope} runs on {Dcs.SectionName()}, not etcd");
        init => etcd = value;
    }

    /// <summary>The ZooKeeper servers; throws on an etcd cluster.</summary>
    public ZooKeeperEnsemble ZooKeeper
    {
        get => zooKeeper ?? throw new InvalidOperationException($"cluster {Scope} runs on {Dcs.SectionName()}, not ZooKeeper");
        init => zooKeeper = value;
    }

    private readonly ZooKeeperEnsemble? zooKeeper;

    public DcsKind Dcs => Spec.Dcs;
    public required LabClusterSpec Spec { get; init; }
    public List<ClusterNode> Nodes { get; } = [];

    /// <summary>
    /// Starts the DCS (dcs: etcd3 on NET.5, etcd v2 = etcd with --enable-v2 on NET.5, or ZooKeeper with zooKeeperServers
    /// servers on NET.51..) and writes each node's YAML with the matching section; starts the agents unless told not to.
    /// </summary>
    public static async Task<AgentCluster> StartAsync(string scope, int nodes, int ttl = 10, int loopWait = 2, int retryTimeout = 3,
        bool startAgents = true, DcsKind dcs = DcsKind.Etcd3, int zooKeeperServers = 1,
        Func<int, IReadOnlyDictionary<string, string>?>? tagsFor = null,
        IReadOnlyDictionary<string, string>? extraDcs = null, Func<int, string?>? extraYamlFor = null, int etcdMembers = 1,
        CancellationToken ct = default)
    {
        var root = Path.Combine("/var/tmp/pgwarden-it", $"{scope}-{Guid.NewGuid():N}"[..(scope.Length + 9)]);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode("/var/tmp/pgwarden-it", (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var binDir = PublishedBinaries.Directory;
        EtcdCluster? etcd = null;
        ZooKeeperEnsemble? zk = null;
        if (dcs == DcsKind.ZooKeeper)
            zk = await ZooKeeperEnsemble.StartAsync(Enumerable.Range(1, zooKeeperServers).Select(ZooKeeperAddress).ToList(), Path.Combine(root, "zk"), ct);
        else
            etcd = await EtcdCluster.StartAsync([.. Enumerable.Range(0, etcdMembers).Select(i => $"{Net}.{5 + i}")], Path.Combine(root, "etcd"), ct,
                enableV2: dcs == DcsKind.Etcd);
        var hosts = zk?.Hosts ?? etcd!.Endpoints;
        var spec = new LabClusterSpec(scope, hosts)
        {
            Ttl = ttl, LoopWait = loopWait, RetryTimeout = retryTimeout, Dcs = dcs,
            ExtraDcs = extraDcs ?? new Dictionary<string, string>(),
        };
        var cluster = new AgentCluster { Scope = scope, Root = root, BinDir = binDir, Spec = spec };
        if (etcd is not null) cluster = new AgentCluster { Scope = scope, Root = root, BinDir = binDir, Spec = spec, Etcd = etcd };
        if (zk is not null) cluster = new AgentCluster { Scope = scope, Root = root, BinDir = binDir, Spec = spec, ZooKeeper = zk };
        for (var i = 1; i <= nodes; i++)
        {
            var node = cluster.AddNode(i, tagsFor?.Invoke(i), extraYamlFor?.Invoke(i));
            if (startAgents) node.Start();
        }
        return cluster;
    }

    public ClusterNode AddNode(int index, IReadOnlyDictionary<string, string>? tags = null, string? extraYaml = null)
    {
        var name = $"node{index}";
        var user = NodeUser(index);
        OsUser.Ensure(user);
        var home = Path.Combine(Root, name);
        Directory.CreateDirectory(home);
        OsUser.Chown(home, user);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_000_000);
        var spec = new NodeSpec(name, NodeAddress(index), Path.Combine(home, "data"), Path.Combine(home, "pgpass"))
        {
            Tags = tags ?? new Dictionary<string, string>(),
            ExtraYaml = extraYaml ?? "",
        };
        var configPath = Path.Combine(home, "patroni.yml");
        File.WriteAllText(configPath, NodeConfigTemplate.Render(Spec, spec));
        OsUser.Chown(configPath, user);
        File.SetUnixFileMode(configPath, (UnixFileMode)0b110_000_000);
        var node = new ClusterNode(this, name, user, home, spec, configPath);
        Nodes.Add(node);
        return node;
    }

    public ClusterNode Node(string name) => Nodes.Single(n => n.Name == name);

    /// <summary>
    /// The cluster as the DCS holds it, relative key → value: from etcd's v3 gateway or v2 keys API with plain HTTP
    /// (no pgwarden code involved), or from ZooKeeper with PgWarden's wire client (patronictl's kazoo checks it independently).
    /// </summary>
    public Task<Dictionary<string, string>> ReadDcsAsync() => Dcs switch
    {
        DcsKind.Etcd => ReadEtcdV2Async(),
        DcsKind.ZooKeeper => ReadZooKeeperAsync(),
        _ => ReadEtcd3Async(),
    };

    private async Task<Dictionary<string, string>> ReadEtcdV2Async()
    {
        var prefix = $"/service/{Scope}/";
        using var response = await Http.GetAsync($"http://{Etcd.Endpoints[0]}/v2/keys/service/{Scope}?recursive=true");
        var result = new Dictionary<string, string>();
        if (response.StatusCode == HttpStatusCode.NotFound) return result;
        response.EnsureSuccessStatusCode();
        void Walk(JsonNode? node)
        {
            if (node is null) return;
            if (node["dir"]?.GetValue<bool>() == true)
            {
                foreach (var child in node["nodes"]?.AsArray() ?? []) Walk(child);
                return;
            }
            var key = node["key"]!.GetValue<string>();
            if (key.StartsWith(prefix, StringComparison.Ordinal)) result[key[prefix.Length..]] = node["value"]?.GetValue<string>() ?? "";
        }
        Walk(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["node"]);
        return result;
    }

    private async Task<Dictionary<string, string>> ReadZooKeeperAsync()
    {
        var result = new Dictionary<string, string>();
        await using var zk = new ZooKeeperClient(new ZooKeeperClientOptions { Hosts = ZooKeeper.Hosts, SessionTimeout = TimeSpan.FromSeconds(10) },
            TimeProvider.System, NullLogger.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        async Task WalkAsync(string path, string relative)
        {
            var children = await zk.GetChildrenAsync(path, false, cts.Token);
            if (children is null) return;
            if (relative.Length > 0 && (children.Count == 0 || relative != "members" && relative != "optime"))
            {
                if (await zk.GetDataAsync(path, false, cts.Token) is { } node) result[relative] = System.Text.Encoding.UTF8.GetString(node.Data);
            }
            foreach (var c in children) await WalkAsync(path + "/" + c, relative.Length == 0 ? c : relative + "/" + c);
        }
        await WalkAsync($"/service/{Scope}", "");
        return result;
    }

    private async Task<Dictionary<string, string>> ReadEtcd3Async()
    {
        var prefix = $"/service/{Scope}/";
        var body = new JsonObject
        {
            ["key"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(prefix)),
            ["range_end"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(prefix[..^1] + "0")),
        };
        using var response = await Http.PostAsync($"http://{Etcd.Endpoints[0]}/v3/kv/range",
            new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var result = new Dictionary<string, string>();
        foreach (var kv in json["kvs"]?.AsArray() ?? [])
        {
            var key = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv!["key"]!.GetValue<string>()));
            var value = kv["value"] is { } v ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(v.GetValue<string>())) : "";
            result[key[prefix.Length..]] = value;
        }
        return result;
    }

    public async Task<string?> LeaderAsync() => (await ReadDcsAsync()).GetValueOrDefault("leader");

    public static async Task<(HttpStatusCode Code, string Body)> GetAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>One leader and every other node running as a streaming replica, as the REST APIs report it.</summary>
    public async Task WaitForHealthyAsync(TimeSpan deadline)
    {
        await Wait.UntilAsync(async () =>
        {
            var leader = await LeaderAsync();
            if (leader is null) return false;
            foreach (var n in Nodes.Where(n => n.Agent is { HasExited: false }))
            {
                var (code, body) = await GetAsync($"{n.RestUrl}/patroni");
                if (code != HttpStatusCode.OK) return false;
                var doc = JsonNode.Parse(body)!;
                if (doc["state"]?.GetValue<string>() != "running") return false;
                if (n.Name == leader) { if (doc["role"]?.GetValue<string>() != "master") return false; }
                else if (doc["role"]?.GetValue<string>() != "replica" || !await n.IsStreamingAsync()) return false;
            }
            return true;
        }, deadline, "one leader and streaming replicas", TimeSpan.FromMilliseconds(200));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes) n.Dispose();
        if (etcd is not null) await etcd.DisposeAsync();
        if (zooKeeper is not null) await zooKeeper.DisposeAsync();
        if (Environment.GetEnvironmentVariable("PGWARDEN_KEEP_TEST_DATA") != "1")
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>One node of an <see cref="AgentCluster"/>: its agent process, its files and its PostgreSQL.</summary>
public sealed class ClusterNode(AgentCluster cluster, string name, string osUser, string home, NodeSpec spec, string configPath) : IDisposable
{
    public string Name { get; } = name;
    public string OsUserName { get; } = osUser;
    public string Home { get; } = home;
    public NodeSpec Spec { get; } = spec;
    public string ConfigPath { get; } = configPath;
    public AgentProcess? Agent { get; private set; }
    public string RestUrl => $"http://{Spec.Address}:{Spec.RestPort}";
    public string DataDir => Spec.DataDir;

    public AgentProcess Start(params string[] extraArgs)
    {
        Agent?.Dispose();
        Agent = AgentProcess.Start(Name, OsUserName, cluster.BinDir, Home, ["agent", ConfigPath, .. extraArgs]);
        return Agent;
    }

    public NpgsqlConnection Connect(string database = "postgres") => new(
        $"Host={Spec.Address};Port={Spec.PgPort};Username=postgres;Password={cluster.Spec.SuperuserPassword};Database={database};" +
        "Pooling=false;Timeout=3;Command Timeout=5");

    public async Task<bool> IsStreamingAsync()
    {
        await using var conn = Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT status FROM pg_stat_wal_receiver", conn);
        return await cmd.ExecuteScalarAsync() is "streaming";
    }

    /// <summary>The postmaster's pid from postmaster.pid, or null when there is none.</summary>
    public int? PostmasterPid()
    {
        var pidFile = Path.Combine(DataDir, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var first = File.ReadLines(pidFile).FirstOrDefault();
        return int.TryParse(first, out var pid) && Directory.Exists($"/proc/{pid}") ? pid : null;
    }

    /// <summary>Every postgres process running as this node's OS user.</summary>
    public IReadOnlyList<int> PostgresProcesses()
    {
        var (code, output) = OsUser.Run(false, "pgrep", "-u", OsUserName, "-x", "postgres");
        return code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList() : [];
    }

    public void Dispose()
    {
        Agent?.Dispose();
        foreach (var pid in PostgresProcesses()) OsUser.Run(false, "kill", "-9", pid.ToString());
    }
}
