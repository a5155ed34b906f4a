using System.Globalization;
using Npgsql;
using PgWarden.Lab;

namespace PgWarden.Bench;

/// <summary>One node of the benchmark cluster: its own OS user, address, home and Patroni-format YAML.</summary>
public sealed class BenchNode
{
    public required string Name { get; init; }
    public required string OsUser { get; init; }
    public required string Address { get; init; }
    public required string Home { get; init; }
    public required string ConfigPath { get; init; }
    public string DataDir => Path.Combine(Home, "data");
    public string LogPath => Path.Combine(Home, "agent.log");
    public int AgentPid { get; set; }

    public string ConnectionString(int timeoutSeconds = 3) =>
        $"Host={Address};Port=5432;Username=postgres;Password={BenchCluster.SuperuserPassword};Database=postgres;Pooling=false;Timeout={timeoutSeconds};Command Timeout={timeoutSeconds}";

    public int? PostmasterPid()
    {
        var file = Path.Combine(DataDir, "postmaster.pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) && DetachedProcess.IsAlive(pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>
/// The loopback topology both agents run on in turn: etcd and HAProxy on NET.10, nodes on NET.11.. with
/// PostgreSQL on 5432 and REST on 8008. The same YAML (NodeConfigTemplate) is given to Patroni and to PgWarden.
/// Everything started here is stopped and deleted by DisposeAsync.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    public const string SuperuserPassword = "postgres-secret";
    public const string Scope = "bench";

    private readonly BenchOptions _options;
    private readonly string _dir;
    private int _etcdPid;
    private readonly string _haproxyPidFile;

    public AgentKind Agent { get; }
    public List<BenchNode> Nodes { get; } = [];
    public string Front => _options.Net + ".10";
    public string EtcdEndpoint => Front + ":2379";
    public EtcdHttp Etcd { get; }
    public LabClusterSpec Spec { get; }

    public BenchCluster(BenchOptions options, AgentKind agent)
    {
        _options = options;
        Agent = agent;
        _dir = Path.Combine(options.WorkDir, agent.ToString().ToLowerInvariant());
        _haproxyPidFile = Path.Combine(_dir, "haproxy.pid");
        Etcd = new EtcdHttp(EtcdEndpoint);
        // Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10); the rewind user and shared_buffers in the
        // DCS make the file pass Patroni's --validate-config and let edit-config change shared_buffers.
        Spec = new LabClusterSpec(Scope, [EtcdEndpoint])
        {
            Ttl = 30, LoopWait = 10, RetryTimeout = 10, SuperuserPassword = SuperuserPassword,
            RewindUser = "postgres", SharedBuffersInDcs = true,
        };
    }

    public async Task StartEtcdAsync(CancellationToken ct)
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        Directory.CreateDirectory(_dir);
        OsUsers.Run("chmod", "755", _dir);
        _etcdPid = DetachedProcess.Start(Path.Combine(_dir, "etcd.log"), null,
        [
            "etcd", "--name", "bench", "--data-dir", Path.Combine(_dir, "etcd"),
            "--listen-client-urls", $"http://{EtcdEndpoint}", "--advertise-client-urls", $"http://{EtcdEndpoint}",
            "--listen-peer-urls", $"http://{Front}:2380", "--initial-advertise-peer-urls", $"http://{Front}:2380",
            "--initial-cluster", $"bench=http://{Front}:2380", "--initial-cluster-state", "new",
            "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn",
        ]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(async () =>
        {
            try { return (await http.GetAsync($"http://{EtcdEndpoint}/health", ct)).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(30), "etcd to answer /health", ct);
    }

    public BenchNode PrepareNode(int i)
    {
        var node = new BenchNode
        {
            Name = $"node{i}",
            OsUser = $"{_options.UserPrefix}node{i}",
            Address = $"{_options.Net}.{10 + i}",
            Home = Path.Combine(_dir, $"node{i}"),
            ConfigPath = Path.Combine(_dir, $"node{i}", "patroni.yml"),
        };
        OsUsers.Ensure(node.OsUser);
        Directory.CreateDirectory(node.Home);
        OsUsers.Chown(node.Home, node.OsUser);
        File.SetUnixFileMode(node.Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(node.ConfigPath, NodeConfigTemplate.Render(Spec,
            new NodeSpec(node.Name, node.Address, node.DataDir, Path.Combine(node.Home, "pgpass"))));
        OsUsers.Chown(node.ConfigPath, node.OsUser);
        // Readable by root's patronictl too (root reads anything; the mode keeps the passwords private).
        File.SetUnixFileMode(node.ConfigPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Nodes.Add(node);
        return node;
    }

    public void StartAgent(BenchNode node)
    {
        var env = new Dictionary<string, string> { ["HOME"] = node.Home };
        IReadOnlyList<string> command;
        if (Agent == AgentKind.Patroni)
        {
            command = ["/usr/bin/patroni", node.ConfigPath];
        }
        else
        {
            command = [_options.PgWardenBin, "agent", node.ConfigPath];
            env["DOTNET_ROOT"] = Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? (Directory.Exists("/usr/share/dotnet") ? "/usr/share/dotnet" : "/usr/lib/dotnet");
            env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            foreach (var (k, v) in _options.AgentEnvironment) env[k] = v;
        }
        node.AgentPid = DetachedProcess.Start(node.LogPath, node.OsUser, command, env);
    }

    /// <summary>The failure a lost machine looks like: agent and postmaster die at once, nothing is released.</summary>
    public void Kill(BenchNode node)
    {
        var pm = node.PostmasterPid();
        DetachedProcess.Signal(node.AgentPid, "KILL");
        if (pm is { } p) DetachedProcess.Signal(p, "KILL");
    }

    public async Task StopAsync(IEnumerable<BenchNode> nodes, CancellationToken ct)
    {
        var list = nodes.ToList();
        foreach (var n in list) DetachedProcess.Signal(n.AgentPid, "TERM");
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(list.All(n => !DetachedProcess.IsAlive(n.AgentPid))), TimeSpan.FromSeconds(60), "agents to stop", ct);
        }
        catch (TimeoutException)
        {
            foreach (var n in list) DetachedProcess.Signal(n.AgentPid, "KILL");
        }
        foreach (var n in list)
            if (n.PostmasterPid() is { } pm) DetachedProcess.Signal(pm, "KILL");
    }

    public void StartHaproxy()
    {
        var cfg = Path.Combine(_dir, "haproxy.cfg");
        var backends = Nodes.Take(3).Select(n => new HaproxyConfig.Backend(n.Name, n.Address, 5432, n.Address, 8008)).ToList();
        File.WriteAllText(cfg, HaproxyConfig.Render(backends, Front));
        OsUsers.Run("haproxy", "-f", cfg, "-D", "-p", _haproxyPidFile);
    }

    public string HaproxyConnectionString =>
        $"Host={Front};Port=5000;Username=postgres;Password={SuperuserPassword};Database=postgres;Pooling=false;Timeout=2;Command Timeout=2";

    /// <summary>
    /// libpq-style multi-host string. Npgsql remembers a host's role for Host Recheck Seconds (default 10 s);
    /// libpq remembers nothing and checks every host at every connection attempt, which 0 reproduces. (Up to
    /// 2026-11-22 10:30 the bench used 1 s, which added 0-1 s of client-side caching to every reaction figure.)
    /// </summary>
    public string MultiHostConnectionString =>
        $"Host={string.Join(",", Nodes.Take(3).Select(n => n.Address))};Port=5432;Username=postgres;Password={SuperuserPassword};Database=postgres;" +
        "Pooling=false;Timeout=2;Command Timeout=2;Target Session Attributes=read-write;Host Recheck Seconds=0";

    public BenchNode? NodeByName(string? name) => Nodes.FirstOrDefault(n => n.Name == name);
    public BenchNode? NodeByAddress(string? address) => Nodes.FirstOrDefault(n => n.Address == address);

    public async Task<string?> LeaderAsync(CancellationToken ct) => (await Etcd.GetAsync($"/service/{Scope}/leader", ct)).Value;

    /// <summary>
    /// Healthy = a leader lock whose holder is a writable primary with members-1 streaming standbys, checked in
    /// PostgreSQL itself (Patroni 3.0.2's member keys carry no replication state).
    /// </summary>
    /// <summary>When the last successful WaitHealthyAsync first saw the healthy state (before its 2 s of confirmation).</summary>
    public double HealthySince { get; private set; }

    public async Task<BenchNode> WaitHealthyAsync(int members, TimeSpan deadline, CancellationToken ct)
    {
        BenchNode? leader = null;
        double? healthySince = null;
        await Poll.UntilAsync(async () =>
        {
            // A diverged standby shows "streaming" for a moment before it finds the timeline fork: the state
            // must hold for 2 s.
            var ok = await IsHealthyAsync();
            healthySince = ok ? healthySince ?? Clock.Now : null;
            return ok && Clock.Now - healthySince >= 2;
        }, deadline, $"a leader with {members - 1} streaming replicas", ct, 250);
        HealthySince = healthySince!.Value;
        return leader!;

        async Task<bool> IsHealthyAsync()
        {
            leader = NodeByName(await LeaderAsync(ct));
            if (leader is null) return false;
            try
            {
                await using var conn = new NpgsqlConnection(leader.ConnectionString(2));
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("select not pg_is_in_recovery() and (select count(*) from pg_stat_replication where state = 'streaming') >= @n", conn);
                cmd.Parameters.AddWithValue("n", (long)(members - 1));
                return (bool)(await cmd.ExecuteScalarAsync(ct))!;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return false;
            }
        }
    }

    /// <summary>Runs Debian's patronictl against this cluster (it is a client of both agents) and returns its exit code and output.</summary>
    public (int Code, string Output) Patronictl(params string[] args) =>
        OsUsers.Run(true, ["patronictl", "-c", Nodes[0].ConfigPath, .. args]);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await StopAsync(Nodes, cts.Token); } catch (OperationCanceledException) { }
        if (File.Exists(_haproxyPidFile) && int.TryParse(File.ReadAllText(_haproxyPidFile).Trim(), CultureInfo.InvariantCulture, out var hp))
            DetachedProcess.Signal(hp, "TERM");
        DetachedProcess.Signal(_etcdPid, "TERM");
        try { await Poll.UntilAsync(() => Task.FromResult(!DetachedProcess.IsAlive(_etcdPid)), TimeSpan.FromSeconds(20), "etcd to stop", cts.Token); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { DetachedProcess.Signal(_etcdPid, "KILL"); }
        Etcd.Dispose();
        if (Environment.GetEnvironmentVariable("PGWARDEN_BENCH_KEEP") is null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
