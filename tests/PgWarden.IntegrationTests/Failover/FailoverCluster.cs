using System.Net;
using System.Text;
using Npgsql;
using PgWarden.IntegrationTests.Cluster;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>
/// A 3-node cluster on TBackend (node3 tagged nofailover) shared by the failover/switchover scenarios of one class.
/// </summary>
public sealed class FailoverClusterOn<TBackend> : IAsyncLifetime where TBackend : IBackend
{
    public AgentCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await AgentCluster.StartAsync("itfo" + TBackend.Tag, 3, dcs: TBackend.Kind,
            tagsFor: i => i == 3 ? new Dictionary<string, string> { ["nofailover"] = "true" } : null);
        await WriteProbe.PrepareClusterAsync(Cluster);
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Small helpers the failover scenarios share.</summary>
public static class Scenario
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<(HttpStatusCode Code, string Body)> SendAsync(HttpMethod method, string url, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static (int Code, string Output) Pgwarden(params string[] args) =>
        OsUser.Run(true, [Path.Combine(PublishedBinaries.Directory, "pgwarden"), .. args]);

    /// <summary>The node's WAL receiver: (status, received timeline, sender host), or null when it has none.</summary>
    public static async Task<(string Status, int Timeline, string Host)?> WalReceiverAsync(ClusterNode node)
    {
        await using var conn = node.Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT status, received_tli, sender_host FROM pg_stat_wal_receiver", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync() || reader.IsDBNull(0)) return null;
        return (reader.GetString(0), reader.IsDBNull(1) ? 0 : reader.GetInt32(1), reader.IsDBNull(2) ? "" : reader.GetString(2));
    }

    public static async Task<int> TimelineAsync(ClusterNode primary)
    {
        await using var conn = primary.Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT timeline_id FROM pg_control_checkpoint()", conn);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }

    public static void KillAgentAndPostmaster(ClusterNode node)
    {
        var pids = new List<int>();
        if (node.Agent is { HasExited: false } agent) pids.Add(agent.Pid);
        if (node.PostmasterPid() is { } pm) pids.Add(pm);
        OsUser.Run(["kill", "-9", .. pids.Select(p => p.ToString())]);
        foreach (var pid in node.PostgresProcesses()) OsUser.Run(false, "kill", "-9", pid.ToString());
    }
}
