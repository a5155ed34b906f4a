using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Safety;

/// <summary>Small helpers of the data-safety scenarios.</summary>
internal static class SafetyHelpers
{
    /// <summary>The /sync key as (leader, sync standbys); null when absent.</summary>
    public static async Task<(string? Leader, string[] Standbys)?> SyncKeyAsync(AgentCluster cluster)
    {
        if (!(await cluster.ReadDcsAsync()).TryGetValue("sync", out var raw) || JsonNode.Parse(raw) is not JsonObject o) return null;
        var standbys = o["sync_standby"]?.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return (o["leader"]?.GetValue<string>(), standbys);
    }

    public static async Task<string> ScalarAsync(ClusterNode node, string sql)
    {
        await using var conn = node.Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString() ?? "";
    }

    /// <summary>True when the node's PostgreSQL answers and is not in recovery.</summary>
    public static async Task<bool> IsWritablePrimaryAsync(ClusterNode node)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await using var conn = node.Connect();
            await conn.OpenAsync(cts.Token);
            await using var cmd = new NpgsqlCommand("SELECT NOT pg_is_in_recovery()", conn);
            return (bool)(await cmd.ExecuteScalarAsync(cts.Token))!;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            return false;
        }
    }

    public static async Task<JsonObject> PatroniAsync(ClusterNode node)
    {
        var (_, body) = await AgentCluster.GetAsync($"{node.RestUrl}/patroni");
        return JsonNode.Parse(body)!.AsObject();
    }
}

/// <summary>Prints every agent's recent log when the scenario did not reach Passed() (declare after the cluster).</summary>
internal sealed class LogDump(Xunit.Abstractions.ITestOutputHelper output, AgentCluster cluster) : IDisposable
{
    private bool _passed;

    public void Passed() => _passed = true;

    public void Dispose()
    {
        if (_passed) return;
        foreach (var n in cluster.Nodes)
            output.WriteLine($"===== {n.Name} agent log (tail) =====\n{n.Agent?.Output}");
    }
}
