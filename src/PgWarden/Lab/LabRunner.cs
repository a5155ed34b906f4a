using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using PgWarden.Ctl;
using PgWarden.Dcs;

namespace PgWarden.Lab;

/// <summary>
/// The local lab: etcd on 127.0.0.10, N agents on 127.0.0.11.. (PostgreSQL 5432, REST 8008) each as its own OS
/// user with a Patroni-format YAML file in DIR, and HAProxy on 127.0.0.10 (5000 read-write, 5001 read-only,
/// 7000 stats). Everything it starts is recorded in DIR/lab.json; down stops exactly those processes.
/// </summary>
public sealed class LabRunner(TextWriter output)
{
    public const string DefaultDir = "/var/tmp/pgwarden-lab";
    public const string FrontAddress = "127.0.0.10";

    public sealed record UpOptions(string Dir, int Nodes, int Ttl, int LoopWait, int RetryTimeout, string Scope = "demo");

    public async Task<int> UpAsync(UpOptions options, CancellationToken ct)
    {
        if (!Environment.IsPrivilegedProcess)
            return Fail("lab up must run as root: it creates one unprivileged OS user per node (pgnode1..N) and starts the agents as them");
        if (MissingDependency() is { } missing) return Fail(missing);
        if (LabState.Load(options.Dir) is { AnyAlive: true } running)
        {
            output.WriteLine($"A lab is already running in {running.Dir} (cluster {running.Scope}); `pgwarden lab down` stops it.");
            return await StatusAsync(options.Dir, ct);
        }

        var sw = Stopwatch.StartNew();
        Directory.CreateDirectory(options.Dir);
        OsUsers.Run("chmod", "755", options.Dir);
        var bin = CopyBinaries(options.Dir);
        var etcdEndpoint = $"{FrontAddress}:2379";
        var state = new LabState { Scope = options.Scope, Dir = options.Dir, EtcdEndpoint = etcdEndpoint, HaproxyPidFile = Path.Combine(options.Dir, "haproxy.pid") };

        var etcdDir = Path.Combine(options.Dir, "etcd");
        if (Directory.Exists(etcdDir)) Directory.Delete(etcdDir, recursive: true);
        state.EtcdPid = DetachedProcess.Start(Path.Combine(options.Dir, "etcd.log"), null,
        [
            "etcd", "--name", "lab", "--data-dir", etcdDir,
            "--listen-client-urls", $"http://{etcdEndpoint}", "--advertise-client-urls", $"http://{etcdEndpoint}",
            "--listen-peer-urls", $"http://{FrontAddress}:2380", "--initial-advertise-peer-urls", $"http://{FrontAddress}:2380",
            "--initial-cluster", $"lab=http://{FrontAddress}:2380", "--initial-cluster-state", "new",
            "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn",
        ]);
        state.Save();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await WaitAsync(async () => (await http.GetAsync($"http://{etcdEndpoint}/health", ct)).IsSuccessStatusCode, TimeSpan.FromSeconds(30), ct);
        Step($"etcd is up on {etcdEndpoint}", sw);

        var spec = new LabClusterSpec(options.Scope, [etcdEndpoint]) { Ttl = options.Ttl, LoopWait = options.LoopWait, RetryTimeout = options.RetryTimeout };
        for (var i = 1; i <= options.Nodes; i++)
        {
            var node = PrepareNode(options.Dir, spec, i);
            node.AgentPid = StartAgent(bin, node);
            state.Nodes.Add(node);
        }
        state.Save();
        Step($"started {options.Nodes} agents as OS users {string.Join(", ", state.Nodes.Select(n => n.OsUser))}", sw);

        using var loggers = AgentLogging.Create(LogLevel.Critical);
        await using var dcs = new CtlContext(options.Scope, "/service/", new Config.EtcdConfig { Hosts = [etcdEndpoint] }, null).OpenDcs(options.Scope, loggers);
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
        Step($"HAProxy listens on {FrontAddress}: 5000 read-write, 5001 read-only, 7000 stats", sw);
        output.WriteLine();
        output.Write(ClusterTable.Render(await dcs.GetClusterAsync(ct), options.Scope, "pretty", false));
        PrintHowTo(state, spec);
        return 0;
    }

    private static LabNode PrepareNode(string dir, LabClusterSpec spec, int i)
    {
        var name = $"node{i}";
        var user = $"pgnode{i}";
        OsUsers.Ensure(user);
        var home = Path.Combine(dir, name);
        if (Directory.Exists(home) && LabState.Load(dir) is null) Directory.Delete(home, recursive: true);
        Directory.CreateDirectory(home);
        OsUsers.Chown(home, user);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var address = $"127.0.0.{10 + i}";
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

    private static void StartHaproxy(LabState state, ClusterView view)
    {
        var cfg = Path.Combine(state.Dir, "haproxy.cfg");
        File.WriteAllText(cfg, HaproxyConfig.Render(HaproxyConfig.FromMembers(view.Members), FrontAddress));
        if (state.HaproxyPid is { } old) DetachedProcess.Signal(old, "TERM");
        OsUsers.Run("haproxy", "-f", cfg, "-D", "-p", state.HaproxyPidFile);
    }

    public async Task<int> StatusAsync(string dir, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } state) return Fail($"no lab in {dir}; `pgwarden lab up` starts one");
        output.WriteLine($"lab in {state.Dir}: etcd {(DetachedProcess.IsAlive(state.EtcdPid) ? "running" : "stopped")}, " +
                         $"HAProxy {(state.HaproxyPid is { } p && DetachedProcess.IsAlive(p) ? "running" : "stopped")}");
        foreach (var n in state.Nodes)
            output.WriteLine($"  {n.Name} ({n.Address}, user {n.OsUser}): agent {(DetachedProcess.IsAlive(n.AgentPid) ? $"running (pid {n.AgentPid})" : "stopped")}, log {n.LogPath}");
        try
        {
            using var loggers = AgentLogging.Create(LogLevel.Critical);
            await using var dcs = new CtlContext(state.Scope, "/service/", new Config.EtcdConfig { Hosts = [state.EtcdEndpoint] }, null).OpenDcs(state.Scope, loggers);
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
        if (state.Nodes.FirstOrDefault(n => n.Name == name) is not { } node)
            return Fail($"no node '{name}' in the lab (nodes: {string.Join(", ", state.Nodes.Select(n => n.Name))})");
        if (kill)
        {
            // Agent and postmaster together: the failure a lost machine looks like.
            DetachedProcess.Signal(node.AgentPid, "KILL");
            if (PostmasterPid(node) is { } pm) DetachedProcess.Signal(pm, "KILL");
            output.WriteLine($"killed {name}'s agent and postmaster (kill -9)");
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
        if (state.Nodes.FirstOrDefault(n => n.Name == name) is not { } node)
            return Fail($"no node '{name}' in the lab (nodes: {string.Join(", ", state.Nodes.Select(n => n.Name))})");
        if (DetachedProcess.IsAlive(node.AgentPid)) return Fail($"{name}'s agent is already running (pid {node.AgentPid})");
        node.AgentPid = StartAgent(Path.Combine(state.Dir, "bin"), node);
        state.Save();
        output.WriteLine($"started {name}'s agent (pid {node.AgentPid})");
        return 0;
    }

    public async Task<int> DownAsync(string dir, bool keepData, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } state)
        {
            output.WriteLine($"no lab in {dir}; nothing to stop");
            return 0;
        }
        foreach (var n in state.Nodes) DetachedProcess.Signal(n.AgentPid, "TERM");
        try
        {
            await WaitAsync(() => Task.FromResult(state.Nodes.All(n => !DetachedProcess.IsAlive(n.AgentPid))), TimeSpan.FromSeconds(90), ct);
        }
        catch (TimeoutException)
        {
            foreach (var n in state.Nodes) DetachedProcess.Signal(n.AgentPid, "KILL");
        }
        // A killed agent leaves its postmaster behind: stop exactly those, by the pid in their data directories.
        foreach (var n in state.Nodes)
            if (PostmasterPid(n) is { } pm) DetachedProcess.Signal(pm, "KILL");
        if (state.HaproxyPid is { } hp) DetachedProcess.Signal(hp, "TERM");
        DetachedProcess.Signal(state.EtcdPid, "TERM");
        await WaitAsync(() => Task.FromResult(!DetachedProcess.IsAlive(state.EtcdPid)), TimeSpan.FromSeconds(20), ct);
        output.WriteLine("lab stopped: agents, PostgreSQL, HAProxy and etcd");
        if (!keepData) Directory.Delete(state.Dir, recursive: true);
        else File.Delete(LabState.PathIn(state.Dir));
        return 0;
    }

    private static int? PostmasterPid(LabNode node)
    {
        var file = Path.Combine(node.DataDir, "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) && DetachedProcess.IsAlive(pid) ? pid : null;
    }

    private void PrintHowTo(LabState state, LabClusterSpec spec)
    {
        output.WriteLine();
        output.WriteLine($"read-write:  psql 'host={FrontAddress} port=5000 user=postgres password={spec.SuperuserPassword} dbname=postgres'");
        output.WriteLine($"read-only:   psql 'host={FrontAddress} port=5001 user=postgres password={spec.SuperuserPassword} dbname=postgres'");
        output.WriteLine($"HAProxy:     http://{FrontAddress}:7000/    node configs: {state.Dir}/node*/patroni.yml");
        output.WriteLine($"cluster:     pgwarden list -c {state.Nodes[0].ConfigPath}    (Debian's patronictl -c works too)");
        output.WriteLine("stop it:     pgwarden lab down");
    }

    private static string? MissingDependency()
    {
        foreach (var (binary, package) in new[] { ("etcd", "etcd-server"), ("haproxy", "haproxy"), ("setpriv", "util-linux") })
            if (!OnPath(binary)) return $"{binary} is not installed: apt-get install -y {package}";
        return File.Exists("/usr/lib/postgresql/15/bin/postgres") ? null : "PostgreSQL 15 is not installed: apt-get install -y postgresql-15";
    }

    private static bool OnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, binary)));

    private void Step(string what, Stopwatch sw) => output.WriteLine($"[{sw.Elapsed.TotalSeconds,5:F1}s] {what}");

    private int Fail(string message)
    {
        output.WriteLine($"Error: {message}");
        return 1;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan deadline, CancellationToken ct)
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
