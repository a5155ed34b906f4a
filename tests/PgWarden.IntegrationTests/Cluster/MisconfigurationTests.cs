using PgWarden.IntegrationTests.Infrastructure;
using PgWarden.Lab;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>Bad configuration, an unreachable etcd and a foreign data directory: refused clearly, nothing touched.</summary>
public sealed class MisconfigurationTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine("/var/tmp/pgwarden-it", "misconf-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<AgentProcess> _agents = [];

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        OsUser.Run("chmod", "755", "/var/tmp/pgwarden-it", _root);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        foreach (var a in _agents) a.Dispose();
        OsUser.Run(false, "pkill", "-9", "-u", AgentCluster.NodeUser(9), "-x", "postgres");
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private (string Home, string Config) NodeFiles(string yaml, string name = "node9")
    {
        OsUser.Ensure(AgentCluster.NodeUser(9));
        var home = Path.Combine(_root, name);
        Directory.CreateDirectory(home);
        OsUser.Chown(home, AgentCluster.NodeUser(9));
        var config = Path.Combine(home, "patroni.yml");
        File.WriteAllText(config, yaml);
        OsUser.Chown(config, AgentCluster.NodeUser(9));
        return (home, config);
    }

    /// <summary>A node whose etcd address has nothing listening (NET.6).</summary>
    private static string Yaml(string home) =>
        NodeConfigTemplate.Render(new LabClusterSpec("itmisconf", [$"{AgentCluster.Net}.6:2379"]) { Ttl = 10, LoopWait = 2, RetryTimeout = 3 },
            new NodeSpec("node9", AgentCluster.NodeAddress(9), Path.Combine(home, "data"), Path.Combine(home, "pgpass")));

    private AgentProcess StartAgent(string home, string config)
    {
        var agent = AgentProcess.Start("node9", AgentCluster.NodeUser(9), PublishedBinaries.Directory, home, "agent", config);
        _agents.Add(agent);
        return agent;
    }

    [Theory]
    [InlineData("ttl: \"abc\"", "bootstrap.dcs.ttl", "abc")]
    [InlineData("missing scope", "scope", null)]
    [InlineData("unreadable data_dir", "postgresql.data_dir", null)]
    public async Task A_bad_value_exits_non_zero_naming_the_key(string change, string key, string? value)
    {
        var home = Path.Combine(_root, "bad" + Guid.NewGuid().ToString("N")[..6]);
        var yaml = Yaml(home);
        yaml = change switch
        {
            "missing scope" => yaml.Replace("scope: itmisconf\n", "", StringComparison.Ordinal),
            "unreadable data_dir" => yaml.Replace($"data_dir: {home}/data", "data_dir: /root/forbidden/data", StringComparison.Ordinal),
            _ => yaml.Replace("ttl: 10", "ttl: \"abc\"", StringComparison.Ordinal),
        };
        var (nodeHome, config) = NodeFiles(yaml, Path.GetFileName(home));
        var agent = StartAgent(nodeHome, config);
        Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the agent kept running with a bad configuration");
        Assert.NotEqual(0, agent.ExitCode);
        Assert.Contains(key, agent.Output);
        if (value is not null) Assert.Contains(value, agent.Output);

        // As the node's user: root could create a data directory anywhere.
        var (code, text) = OsUser.Run(true, "setpriv", $"--reuid={AgentCluster.NodeUser(9)}", $"--regid={AgentCluster.NodeUser(9)}", "--clear-groups", "--",
            Path.Combine(PublishedBinaries.Directory, "pgwarden"), "validate-config", config);
        Assert.NotEqual(0, code);
        Assert.Contains(key, text);
    }

    [Fact]
    public async Task The_agent_refuses_to_run_as_root()
    {
        var (code, text) = OsUser.Run(true, Path.Combine(PublishedBinaries.Directory, "pgwarden"), "agent", "/nonexistent.yml");
        Assert.NotEqual(0, code);
        Assert.Contains("refusing to run as root", text);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_unreachable_etcd_leaves_the_agent_retrying_and_postgres_never_primary()
    {
        var home = Path.Combine(_root, "noetcd");
        var (nodeHome, config) = NodeFiles(Yaml(home), "noetcd");
        // A data directory that was a primary: without the lock it must not be started as one.
        var data = Path.Combine(nodeHome, "data");
        OsUser.Run("setpriv", $"--reuid={AgentCluster.NodeUser(9)}", $"--regid={AgentCluster.NodeUser(9)}", "--clear-groups", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", data, "-U", "postgres", "--no-sync");
        var agent = StartAgent(nodeHome, config);
        await Wait.UntilAsync(() => agent.HasExited || agent.Output.Split('\n').Count(l => l.Contains("DCS is not accessible", StringComparison.Ordinal)) >= 3,
            TimeSpan.FromSeconds(60), "three cycles reporting that the DCS is not accessible");
        Assert.False(agent.HasExited, agent.Output);
        Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "postgres was started without the lock");
        Assert.NotEqual(0, OsUser.Run(false, "pgrep", "-u", AgentCluster.NodeUser(9), "-x", "postgres").Code); // pgrep: 1 = none found
    }
}
