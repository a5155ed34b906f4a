using System.Text.Json;

namespace PgWarden.Lab;

/// <summary>What `lab up` started, saved in DIR/lab.json so status, stop, kill and down act on exactly those processes.</summary>
public sealed record LabState
{
    public required string Scope { get; init; }
    public required string Dir { get; init; }
    public required string EtcdEndpoint { get; init; }
    public int EtcdPid { get; set; }
    public string HaproxyPidFile { get; init; } = "";
    public List<LabNode> Nodes { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string PathIn(string dir) => System.IO.Path.Combine(dir, "lab.json");

    public static LabState? Load(string dir) =>
        File.Exists(PathIn(dir)) ? JsonSerializer.Deserialize<LabState>(File.ReadAllText(PathIn(dir)), Json) : null;

    public void Save() => File.WriteAllText(PathIn(Dir), JsonSerializer.Serialize(this, Json));

    public int? HaproxyPid => File.Exists(HaproxyPidFile) && int.TryParse(File.ReadAllText(HaproxyPidFile).Trim(), out var pid) ? pid : null;

    public bool AnyAlive => DetachedProcess.IsAlive(EtcdPid) || Nodes.Any(n => DetachedProcess.IsAlive(n.AgentPid));
}

public sealed record LabNode
{
    public required string Name { get; init; }
    public required string OsUser { get; init; }
    public required string Address { get; init; }
    public required string Home { get; init; }
    public required string ConfigPath { get; init; }
    public int AgentPid { get; set; }

    public string DataDir => System.IO.Path.Combine(Home, "data");
    public string LogPath => System.IO.Path.Combine(Home, "agent.log");
}
