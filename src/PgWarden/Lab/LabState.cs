using System.Text.Json;

namespace PgWarden.Lab;

/// <summary>What `lab up` started, saved in DIR/lab.json so status, stop, kill, partition and down act on exactly those processes and rules.</summary>
public sealed record LabState
{
    public required string Scope { get; init; }
    public required string Dir { get; init; }
    public string Net { get; init; } = LabAddressing.DefaultNet;
    public string UserPrefix { get; init; } = LabAddressing.DefaultUserPrefix;
    /// <summary>etcd3 (default), etcd (the v2 API) or zookeeper.</summary>
    public Dcs.DcsKind Dcs { get; init; } = PgWarden.Dcs.DcsKind.Etcd3;
    /// <summary>host:port of each DCS server (etcd members or ZooKeeper servers).</summary>
    public List<string> DcsEndpoints { get; init; } = [];
    public List<int> DcsPids { get; init; } = [];
    public string HaproxyPidFile { get; init; } = "";
    public List<LabNode> Nodes { get; init; } = [];

    /// <summary>The partitions in force and the iptables rules each added (also tagged with <see cref="FirewallTag"/>).</summary>
    public List<LabPartitionRecord> Partitions { get; init; } = [];

    public static string PathIn(string dir) => System.IO.Path.Combine(dir, "lab.json");

    public static LabState? Load(string dir) =>
        File.Exists(PathIn(dir)) ? JsonSerializer.Deserialize(File.ReadAllText(PathIn(dir)), LabStateJson.Default.LabState) : null;

    public void Save() => File.WriteAllText(PathIn(Dir), JsonSerializer.Serialize(this, LabStateJson.Default.LabState));

    public string FrontAddress => $"{Net}.10";
    public string FirewallTag => LabAddressing.FirewallTag(Dir);

    public int? HaproxyPid => File.Exists(HaproxyPidFile) && int.TryParse(File.ReadAllText(HaproxyPidFile).Trim(), out var pid) ? pid : null;

    public bool AnyAlive => DcsPids.Any(DetachedProcess.IsAlive) || Nodes.Any(n => DetachedProcess.IsAlive(n.AgentPid));

    public LabNode? Node(string name) => Nodes.FirstOrDefault(n => n.Name == name);
}

public sealed record LabNode
{
    public required string Name { get; init; }
    public required string OsUser { get; init; }
    public required string Address { get; init; }
    public required string Home { get; init; }
    public required string ConfigPath { get; init; }
    public int AgentPid { get; set; }
    public int PgPort { get; init; } = 5432;
    public int RestPort { get; init; } = 8008;

    public string DataDir => System.IO.Path.Combine(Home, "data");
    public string LogPath => System.IO.Path.Combine(Home, "agent.log");
}

public sealed record LabPartitionRecord(string Node, string From, List<List<string>> Rules);
