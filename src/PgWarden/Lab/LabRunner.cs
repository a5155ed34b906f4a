using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using PgWarden.Ctl;
using PgWarden.Dcs;

namespace PgWarden.Lab;

/// <summary>
/// The local lab: etcd (one member on NET.10 or three on NET.7-9), N agents on NET.11.. (PostgreSQL 5432, REST
/// 8008) each as its own OS user PREFIXnodeI with a Patroni-format YAML file in DIR, and HAProxy on NET.10 (5000
/// read-write, 5001 read-only, 7000 stats). Everything it starts, and every iptables rule it adds, is recorded in
/// DIR/lab.json; down stops exactly those processes and removes exactly those rules.
/// </summary>
public sealed class LabRunner(TextWriter output)
{
    public const string DefaultDir = "/var/tmp/pgwarden-lab";

    public sealed record UpOptions(string Dir, int Nodes, int Ttl, int LoopWait, int RetryTimeout, LabAddressing Addressing, string Scope = "demo", DcsKind Dcs = DcsKind.Etcd3);

    public async Task<int> UpAsync(UpOptions options, CancellationToken ct)
    {
        var net = options.Addressing;
        if (!Environment.IsPrivilegedProcess)
            return Fail($"lab up must run as root: it creates one unprivileged OS user per node ({net.NodeUser(1)}..{net.NodeUser(options.Nodes)}) and starts the agents as them");
        if (MissingDependency() is { } missing) return Fail(missing);
        if (LabState.Load(options.Dir) is { AnyAlive: true } running)
        {
            output.WriteLine($"A lab is already running in {running.Dir} (cluster {running.Scope}); `pgwarden lab down --dir {running.Dir}` stops it.");
            return await StatusAsync(options.Dir, ct);
        }
        // A lab that was killed without `down` may have left its rules: they would partition the new one.
        new LabFirewall(LabAddressing.FirewallTag(options.Dir)).RemoveAll();

        var sw = Stopwatch.StartNew();
        Directory.CreateDirectory(options.Dir);
        OsUsers.Run("chmod", "755", options.Dir);
        var bin = CopyBinaries(options.Dir);
        var state = new LabState
        {
            Scope = options.Scope, Dir = options.Dir, Net = net.Net, UserPrefix = net.UserPrefix, Dcs = options.Dcs,
            HaproxyPidFile = Path.Combine(options.Dir, "haproxy.pid"),
        };
        if (options.Dcs == DcsKind.ZooKeeper) await StartZooKeeperAsync(state, net, ct);
        else await StartEtcdAsync(state, net, enableV2: options.Dcs == DcsKind.Etcd, ct);
        Step($"{options.Dcs.SectionName()} is up on {string.Join(", ", state.DcsEndpoints)}", sw);

        var spec = new LabClusterSpec(options.Scope, state.DcsEndpoints) { Ttl = options.Ttl, LoopWait = options.LoopWait, RetryTimeout = options.RetryTimeout, Dcs = options.Dcs,
            // The demo changes shared_buffers cluster-wide: a node-local value would override the DCS (as in Patroni).
            SharedBuffersInDcs = true,
        };
        for (var i = 1; i <= options.Nodes; i++)
        {
            var node = PrepareNode(options.Dir, spec, net, i);
            node.AgentPid = StartAgent(bin, node);
            state.Nodes.Add(node);
        }
        state.Save();
        Step($"started {options.Nodes} agents as OS users {string.Join(", ", state.Nodes.Select(n => n.OsUser))}", sw);

        using var loggers = AgentLogging.Create(LogLevel.Critical);
        await using var dcs = OpenDcs(state, loggers);
        var reported = new HashSet<string>();
        await WaitAsync(async () =>
        {
            var view = await dcs.GetClusterAsync(ct);
            if (view.Leader is { } leader && reported.Add("leader:" + leader.Name)) Step($"{leader.Name} bootstrapped the cluster and holds the leader lock", sw);
            foreach (var m in view.Members.Where(m => m.Name != view.Leader?.Name))
            {
                if (m.Data.State == "creating replica" && reported.Add("clone:" + m.Name)) Step($"{m.Name} is cloning from the leader (pg_basebackup)", sw);
                if (m.Data.ReplicationState == "streaming" && reported.Add("stream:" + m.Name)) Step($"{m.Name} is streaming", sw);
            }
            return view.Leader is not null && view.Members.Count(m => m.Name != view.Leader.Name && m.Data.ReplicationState == "streaming") == options.Nodes - 1;
        }, TimeSpan.FromSeconds(180), ct);

        StartHaproxy(state, await dcs.GetClusterAsync(ct));
        Step($"HAProxy listens on {state.FrontAddress}: 5000 read-write, 5001 read-only, 7000 stats", sw);
        output.WriteLine();
        output.Write(ClusterTable.Render(await dcs.GetClusterAsync(ct), options.Scope, "pretty", false));
        PrintHowTo(state, spec);
        return 0;
    }

    internal static IDcs OpenDcs(LabState state, ILoggerFactory loggers)
    {
        var hosts = state.DcsEndpoints;
        var context = state.Dcs switch
        {
            DcsKind.ZooKeeper => new CtlContext(state.Scope, "/service/", null, null) { ZooKeeper = new Config.ZooKeeperConfig { Hosts = hosts } },
            DcsKind.Etcd => new CtlContext(state.Scope, "/service/", null, null) { EtcdV2 = new Config.EtcdConfig { Hosts = hosts } },
            _ => new CtlContext(state.Scope, "/service/", new Config.EtcdConfig { Hosts = hosts }, null),
        };
        return context.OpenDcs(state.Scope, loggers);
    }

    /// <summary>etcd: one member on NET.10 or three on NET.7-9; with enableV2 the v2 keys API (the etcd: section) too.</summary>
    private static async Task StartEtcdAsync(LabState state, LabAddressing net, bool enableV2, CancellationToken ct)
    {
        var addresses = net.EtcdAddresses;
        var initialCluster = string.Join(',', addresses.Select((a, i) => $"etcd{i + 1}=http://{a}:2380"));
        for (var i = 0; i < addresses.Count; i++)
        {
            var a = addresses[i];
            var dir = Path.Combine(state.Dir, $"etcd{i + 1}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            List<string> command =
            [
                "etcd", "--name", $"etcd{i + 1}", "--data-dir", dir,
                "--listen-client-urls", $"http://{a}:2379", "--advertise-client-urls", $"http://{a}:2379",
                "--listen-peer-urls", $"http://{a}:2380", "--initial-advertise-peer-urls", $"http://{a}:2380",
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", $"pgwarden-lab-{net.Net}",
                "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn",
            ];
            if (enableV2) command.Add("--enable-v2=true");
            state.DcsPids.Add(DetachedProcess.Start(Path.Combine(state.Dir, $"etcd{i + 1}.log"), null, command));
            state.DcsEndpoints.Add($"{a}:2379");
        }
        state.Save();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        foreach (var e in state.DcsEndpoints)
            await WaitAsync(async () => (await http.GetAsync($"http://{e}/health", ct)).IsSuccessStatusCode, TimeSpan.FromSeconds(30), ct);
    }

    /// <summary>ZooKeeper (Debian's package, in the foreground with a zoo.cfg of the lab's): the same addresses as etcd.</summary>
    private static async Task StartZooKeeperAsync(LabState state, LabAddressing net, CancellationToken ct)
    {
        var zk = new ZooKeeperServerSpec(net.EtcdAddresses, Path.Combine(state.Dir, "zookeeper"));
        if (Directory.Exists(zk.DataRoot)) Directory.Delete(zk.DataRoot, recursive: true);
        for (var i = 0; i < zk.Addresses.Count; i++)
            state.DcsPids.Add(DetachedProcess.Start(Path.Combine(state.Dir, $"zookeeper{i + 1}.log"), null, zk.Prepare(i)));
        state.DcsEndpoints.AddRange(zk.Hosts);
        state.Save();
        foreach (var host in zk.Hosts) await WaitAsync(() => ZooKeeperAnswersAsync(host, ct), TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>ZooKeeper's four-letter "ruok" is answered "imok" once the server serves clients.</summary>
    private static async Task<bool> ZooKeeperAnswersAsync(string host, CancellationToken ct)
    {
        var (address, port) = (host[..host.LastIndexOf(':')], int.Parse(host[(host.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        using var tcp = new System.Net.Sockets.TcpClient();
        try
        {
            await tcp.ConnectAsync(address, port, ct);
            await using var stream = tcp.GetStream();
            await stream.WriteAsync("ruok"u8.ToArray(), ct);
            var buffer = new byte[4];
            var read = await stream.ReadAtLeastAsync(buffer, 4, throwOnEndOfStream: false, ct);
            return read == 4 && System.Text.Encoding.ASCII.GetString(buffer) == "imok";
        }
        catch (System.Net.Sockets.SocketException) { return false; }
        catch (IOException) { return false; }
    }

    private static LabNode PrepareNode(string dir, LabClusterSpec spec, LabAddressing net, int i)
    {
        var name = $"node{i}";
        var user = net.NodeUser(i);
        OsUsers.Ensure(user);
        var home = Path.Combine(dir, name);
        // A previous lab in this directory was stopped: start from empty data directories.
        if (Directory.Exists(home)) Directory.Delete(home, recursive: true);
        Directory.CreateDirectory(home);
        OsUsers.Chown(home, user);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var address = net.NodeAddress(i);
        var config = Path.Combine(home, "patroni.yml");
        Config.SecretFile.Write(config, NodeConfigTemplate.Render(spec, new NodeSpec(name, address, Path.Combine(home, "data"), Path.Combine(home, "pgpass"))));
        OsUsers.Chown(config, user);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return new LabNode { Name = name, OsUser = user, Address = address, Home = home, ConfigPath = config };
    }

    private static int StartAgent(string bin, LabNode node) =>
        DetachedProcess.Start(node.LogPath, node.OsUser, [Path.Combine(bin, "pgwarden"), "agent", node.ConfigPath],
            new Dictionary<string, string> { ["HOME"] = node.Home, ["DOTNET_ROOT"] = DotnetRoot(), ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });

    private static string DotnetRoot() =>
        Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? (Directory.Exists("/usr/share/dotnet") ? "/usr/share/dotnet" : "/usr/lib/dotnet");

    /// <summary>The agents run as other users: give them a world-readable copy of this executable's folder.</summary>
    private static string CopyBinaries(string dir)
    {
        var target = Path.Combine(dir, "bin");
        var source = AppContext.BaseDirectory;
        if (Path.GetFullPath(source).TrimEnd('/') == Path.GetFullPath(target)) return target;
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
        OsUsers.Run("chmod", "-R", "a+rX", target);
        return target;
    }

    /// <summary>HAProxy's file comes from the members in the DCS, by the same code as `pgwarden haproxy-config`.</summary>
    private static void StartHaproxy(LabState state, ClusterView view)
    {
        var cfg = Path.Combine(state.Dir, "haproxy.cfg");
        File.WriteAllText(cfg, HaproxyConfig.Render(HaproxyConfig.FromMembers(view.Members), state.FrontAddress));
        if (state.HaproxyPid is { } old) DetachedProcess.Signal(old, "TERM");
        OsUsers.Run("haproxy", "-f", cfg, "-D", "-p", state.HaproxyPidFile);
    }

    public async Task<int> StatusAsync(string dir, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}; `pgwarden lab up` starts one");
        output.WriteLine($"lab in {state.Dir}: etcd {(state.DcsPids.Any(DetachedProcess.IsAlive) ? "running" : "stopped")} ({string.Join(", ", state.DcsEndpoints)}), " +
                         $"HAProxy {(state.HaproxyPid is { } p && DetachedProcess.IsAlive(p) ? "running" : "stopped")} ({state.FrontAddress}: 5000 rw, 5001 ro, 7000 stats)");
        foreach (var n in state.Nodes)
            output.WriteLine($"  {n.Name} ({n.Address}, user {n.OsUser}): agent {(DetachedProcess.IsAlive(n.AgentPid) ? $"running (pid {n.AgentPid})" : "stopped")}, log {n.LogPath}");
        foreach (var part in state.Partitions)
            output.WriteLine($"  partition: {part.Node} cut off from {part.From} ({part.Rules.Count} iptables rules, tag {state.FirewallTag}; `lab heal` removes them)");
        try
        {
            using var loggers = AgentLogging.Create(LogLevel.Critical);
            await using var dcs = OpenDcs(state, loggers);
            output.Write(ClusterTable.Render(await dcs.GetClusterAsync(ct), state.Scope, "pretty", false));
        }
        catch (DcsException e)
        {
            output.WriteLine($"cannot read the cluster from etcd: {e.Message}");
        }
        return 0;
    }

    public async Task<int> StopNodeAsync(string dir, string name, bool kill, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}");
        if (state.Node(name) is not { } node) return NoSuchNode(state, name);
        if (kill)
        {
            // Agent and postmaster together: the failure a lost machine looks like.
            var pm = PostmasterPid(node);
            DetachedProcess.Signal(node.AgentPid, "KILL");
            if (pm is not null) DetachedProcess.Signal(pm.Value, "KILL");
            output.WriteLine($"killed {name}'s agent (pid {node.AgentPid}) and postmaster{(pm is null ? " (none running)" : $" (pid {pm})")} with kill -9");
            return 0;
        }
        DetachedProcess.Signal(node.AgentPid, "TERM");
        await WaitAsync(() => Task.FromResult(!DetachedProcess.IsAlive(node.AgentPid)), TimeSpan.FromSeconds(90), ct);
        output.WriteLine($"stopped {name} (agent stopped PostgreSQL cleanly)");
        return 0;
    }

    public int StartNode(string dir, string name)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}");
        if (state.Node(name) is not { } node) return NoSuchNode(state, name);
        if (DetachedProcess.IsAlive(node.AgentPid)) return Fail($"{name}'s agent is already running (pid {node.AgentPid})");
        // A kill -9 leaves orphaned PostgreSQL backends holding shared memory; the new postmaster refuses to start while they live.
        foreach (var pid in Processes(node.OsUser)) DetachedProcess.Signal(pid, "KILL");
        node.AgentPid = StartAgent(Path.Combine(state.Dir, "bin"), node);
        state.Save();
        output.WriteLine($"started {name}'s agent (pid {node.AgentPid})");
        return 0;
    }

    public int Partition(string dir, string name, string from)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}");
        if (state.Node(name) is not { } node) return NoSuchNode(state, name);
        if (!LabPartitionRules.Kinds.Contains(from)) return Fail($"--from '{from}' is not one of {string.Join(", ", LabPartitionRules.Kinds)}");
        LabPartitionRules.NodeTarget Target(LabNode n) => new(n.Name, OsUsers.Ensure(n.OsUser).Uid, n.Address, [n.PgPort, n.RestPort]);
        var sockets = LabPartitionRules.ParseSs(OsUsers.Run("ss", "-tnHe", "state", "established"));
        var rules = LabPartitionRules.Build(Target(node), state.Nodes.Where(n => n != node).Select(Target).ToList(),
            state.DcsEndpoints.Select(LabPartitionRules.Endpoint.Parse).ToList(), from, sockets);
        new LabFirewall(state.FirewallTag).Add(rules);
        state.Partitions.Add(new LabPartitionRecord(name, from, rules));
        state.Save();
        output.WriteLine($"{name} is cut off from {(from == "all" ? "etcd and its peers" : from)}: {rules.Count} iptables rules in chain {new LabFirewall(state.FirewallTag).Chain} (tag {state.FirewallTag})");
        foreach (var r in rules) output.WriteLine("  -A " + string.Join(' ', r) + " -j DROP");
        return 0;
    }

    public int Heal(string dir)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}");
        var firewall = new LabFirewall(state.FirewallTag);
        var before = firewall.List().Count;
        firewall.RemoveAll();
        var healed = string.Join(", ", state.Partitions.Select(p => $"{p.Node} from {p.From}"));
        state.Partitions.Clear();
        state.Save();
        output.WriteLine(before == 0 ? "no partition in force" : $"healed ({healed}): removed the lab's iptables rules and chain (tag {state.FirewallTag})");
        return 0;
    }

    public async Task<int> DownAsync(string dir, bool keepData, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } state)
        {
            output.WriteLine($"no lab in {dir}; nothing to stop");
            return 0;
        }
        new LabFirewall(state.FirewallTag).RemoveAll();
        foreach (var n in state.Nodes) DetachedProcess.Signal(n.AgentPid, "TERM");
        try
        {
            await WaitAsync(() => Task.FromResult(state.Nodes.All(n => !DetachedProcess.IsAlive(n.AgentPid))), TimeSpan.FromSeconds(90), ct);
        }
        catch (TimeoutException)
        {
            foreach (var n in state.Nodes) DetachedProcess.Signal(n.AgentPid, "KILL");
        }
        // A killed agent leaves its postmaster behind: stop exactly those, by the pid in their data directories,
        // then whatever still runs as the node's own OS user (backends orphaned by a kill -9).
        foreach (var n in state.Nodes)
            if (PostmasterPid(n) is { } pm) DetachedProcess.Signal(pm, "KILL");
        foreach (var n in state.Nodes)
            foreach (var pid in Processes(n.OsUser)) DetachedProcess.Signal(pid, "KILL");
        if (state.HaproxyPid is { } hp) DetachedProcess.Signal(hp, "TERM");
        foreach (var e in state.DcsPids) DetachedProcess.Signal(e, "TERM");
        await WaitAsync(() => Task.FromResult(!state.DcsPids.Any(DetachedProcess.IsAlive) && !(state.HaproxyPid is { } h && DetachedProcess.IsAlive(h))), TimeSpan.FromSeconds(20), ct);
        output.WriteLine("lab stopped: agents, PostgreSQL, HAProxy and the DCS; its iptables rules removed");
        if (!keepData) Directory.Delete(state.Dir, recursive: true);
        else File.Delete(LabState.PathIn(state.Dir));
        return 0;
    }

    /// <summary>Processes of one lab OS user (users are the lab's own: PREFIXnodeI).</summary>
    internal static IReadOnlyList<int> Processes(string osUser)
    {
        var (code, text) = OsUsers.Run(false, "pgrep", "-u", osUser);
        return code != 0 ? [] : text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
    }

    internal static int? PostmasterPid(LabNode node)
    {
        var file = Path.Combine(node.DataDir, "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) && DetachedProcess.IsAlive(pid) ? pid : null;
    }

    private void PrintHowTo(LabState state, LabClusterSpec spec)
    {
        var dirArg = state.Dir == LabAddressing.DefaultDir(state.Net) ? (state.Net == LabAddressing.DefaultNet ? "" : $" --net {state.Net}") : $" --dir {state.Dir}";
        output.WriteLine();
        output.WriteLine($"read-write:  psql 'host={state.FrontAddress} port=5000 user=postgres password={spec.SuperuserPassword} dbname=postgres'");
        output.WriteLine($"read-only:   psql 'host={state.FrontAddress} port=5001 user=postgres password={spec.SuperuserPassword} dbname=postgres'");
        output.WriteLine($"HAProxy:     http://{state.FrontAddress}:7000/    node configs: {state.Dir}/node*/patroni.yml");
        output.WriteLine($"cluster:     pgwarden list -c {state.Nodes[0].ConfigPath}    (Debian's patronictl -c works too)");
        output.WriteLine($"walkthrough: pgwarden lab demo{dirArg}");
        output.WriteLine($"stop it:     pgwarden lab down{dirArg}");
    }

    private static string? MissingDependency()
    {
        foreach (var (binary, package) in new[] { ("etcd", "etcd-server"), ("haproxy", "haproxy"), ("setpriv", "util-linux"), ("iptables", "iptables"), ("ss", "iproute2"), ("pgrep", "procps") })
            if (!OnPath(binary)) return $"{binary} is not installed: apt-get install -y {package}";
        return File.Exists("/usr/lib/postgresql/15/bin/postgres") ? null : "PostgreSQL 15 is not installed: apt-get install -y postgresql-15";
    }

    private static bool OnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, binary)));

    private void Step(string what, Stopwatch sw) => output.WriteLine($"[{sw.Elapsed.TotalSeconds,5:F1}s] {what}");

    private int NoSuchNode(LabState state, string name) =>
        Fail($"no node '{name}' in the lab (nodes: {string.Join(", ", state.Nodes.Select(n => n.Name))})");

    private int Fail(string message)
    {
        output.WriteLine($"Error: {message}");
        return 1;
    }

    internal static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan deadline, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < deadline)
        {
            try { if (await condition()) return; }
            catch (Exception e) when (e is HttpRequestException or DcsException or TaskCanceledException && !ct.IsCancellationRequested) { }
            await Task.Delay(250, ct);
        }
        throw new TimeoutException($"gave up after {deadline.TotalSeconds:F0} s");
    }
}
