using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Operations;

/// <summary>
/// A 3-node cluster for the operations scenarios. Its YAML differs from the plain fixture in three ways a real
/// deployment that manages settings centrally would share: no local shared_buffers (local parameters override
/// dynamic ones), pg_hba only in the dynamic configuration, and a callback script on every node.
/// </summary>
public sealed class OperationsCluster : IAsyncLifetime
{
    public AgentCluster Cluster { get; private set; } = null!;
    public string CallbackDir { get; private set; } = "";

    private const string LocalHba = "  pg_hba:\n  - local all all trust\n  - host replication replicator 127.0.0.1/32 scram-sha-256\n  - host all all 127.0.0.1/32 scram-sha-256\n";
    public static readonly string[] HbaLines = ["local all all trust", "host replication replicator 127.0.0.1/32 scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256"];

    public async Task InitializeAsync()
    {
        Cluster = await AgentCluster.StartAsync("itops", 3, startAgents: false);
        var recorder = await CallbackRecorder.InstallAsync(Cluster);
        CallbackDir = recorder.Dir;
        var script = recorder.Script;
        foreach (var node in Cluster.Nodes)
        {
            var yaml = await File.ReadAllTextAsync(node.ConfigPath);
            yaml = yaml.Replace("    shared_buffers: 32MB\n", "", StringComparison.Ordinal)
                .Replace(LocalHba, "  callbacks:\n" + string.Concat(new[] { "on_start", "on_stop", "on_restart", "on_reload", "on_role_change" }
                    .Select(a => $"    {a}: {script}\n")), StringComparison.Ordinal)
                .Replace("      use_slots: true\n", "      use_slots: true\n      pg_hba:\n" + string.Concat(HbaLines.Select(l => $"      - {l}\n")), StringComparison.Ordinal);
            if (yaml.Contains("shared_buffers", StringComparison.Ordinal) || !yaml.Contains("callbacks:", StringComparison.Ordinal))
                throw new InvalidOperationException("the node YAML template changed; adjust OperationsCluster:\n" + yaml);
            await File.WriteAllTextAsync(node.ConfigPath, yaml);
            node.Start();
        }
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(150));
    }

    public string[] CallbackLines(ClusterNode node)
    {
        var path = Path.Combine(CallbackDir, node.OsUserName + ".log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
