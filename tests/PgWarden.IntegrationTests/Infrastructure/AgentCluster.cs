using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.Lab;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// A real cluster on loopback: one etcd, N pgwarden agents on 127.0.0.11.. (PostgreSQL 5432, REST 8008), each
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
    public static string NodeAddress(int index) => $"{Net}.{10 + index}";
    public static string NodeUser(int index) => $"{UserPrefix}node{index}";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    public required string Scope { get; init; }
    public required string Root { get; init; }
    public required string BinDir { get; init; }
    public required EtcdCluster Etcd { get; init; }
    public required LabClusterSpec Spec { get; init; }
    public List<ClusterNode> Nodes { get; } = [];

    public static async Task<AgentCluster> StartAsync(string scope, int nodes, int ttl = 10, int loopWait = 2, int retryTimeout = 3,
        bool startAgents = true, Func<int, IReadOnlyDictionary<string, string>?>? tagsFor = null, CancellationToken ct = default)
    {
        var root = Path.Combine("/var/tmp/pgwarden-it", $"{scope}-{Guid.NewGuid():N}"[..(scope.Length + 9)]);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode("/var/tmp/pgwarden-it", (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var binDir = PublishedBinaries.Directory;
        var etcd = await EtcdCluster.StartAsync([EtcdAddress], Path.Combine(root, "etcd"), ct);
        var spec = new LabClusterSpec(scope, etcd.Endpoints) { Ttl = ttl, LoopWait = loopWait, RetryTimeout = retryTimeout };
        var cluster = new AgentCluster { Scope = scope, Root = root, BinDir = binDir, Etcd = etcd, Spec = spec };
        for (var i = 1; i <= nodes; i++)
        {
            var node = cluster.AddNode(i, tagsFor?.Invoke(i));
            if (startAgents) node.Start();
        }
        return cluster;
    }

    public ClusterNode AddNode(int index, IReadOnlyDictionary<string, string>? tags = null)
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

    /// <summary>The cluster as the DCS holds it, read straight from etcd's gateway (no pgwarden code involved).</summary>
    public async Task<Dictionary<string, string>> ReadDcsAsync()
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
        await Etcd.DisposeAsync();
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
