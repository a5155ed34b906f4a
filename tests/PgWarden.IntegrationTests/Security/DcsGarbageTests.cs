using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Security;

/// <summary>
/// Garbage written by hand (through etcd's HTTP gateway, no PgWarden code involved) into every key of a running
/// 3-node cluster: each agent must log it and carry on, never crash, never act on it (no switchover from a garbage
/// failover key, never two primaries from a garbage leader value), and the cluster must keep or regain one leader
/// with streaming replicas.
/// </summary>
public sealed class DcsGarbageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        EtcdCut.RemoveLeftovers();
        _cluster = await AgentCluster.StartAsync("itgarbage", 3);
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task PutAsync(string relativeKey, byte[] value)
    {
        var body = new JsonObject
        {
            ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"/service/{_cluster.Scope}/{relativeKey}")),
            ["value"] = Convert.ToBase64String(value),
        };
        using var response = await Http.PostAsync($"http://{_cluster.Etcd.Endpoints[0]}/v3/kv/put",
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private async Task DeleteAsync(string relativeKey)
    {
        var body = new JsonObject { ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"/service/{_cluster.Scope}/{relativeKey}")) };
        using var response = await Http.PostAsync($"http://{_cluster.Etcd.Endpoints[0]}/v3/kv/deleterange",
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Which nodes' REST APIs say role master right now.</summary>
    private async Task<List<string>> PrimariesAsync()
    {
        var result = new List<string>();
        foreach (var n in _cluster.Nodes)
        {
            try
            {
                var (code, body) = await AgentCluster.GetAsync($"{n.RestUrl}/patroni");
                if (code == HttpStatusCode.OK && JsonNode.Parse(body)?["role"]?.GetValue<string>() == "master") result.Add(n.Name);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
        }
        return result;
    }

    private static readonly byte[][] Garbage =
    [
        Encoding.UTF8.GetBytes("{\"not\": json"),
        [0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x00],
        Encoding.UTF8.GetBytes("[1, {\"leader\": 5}, null]"),
    ];

    [Fact]
    public async Task Garbage_in_every_key_is_logged_and_ignored_without_a_crash_or_a_second_primary()
    {
        var leader = (await _cluster.LeaderAsync())!;
        var replica = _cluster.Nodes.First(n => n.Name != leader).Name;
        var original = await _cluster.ReadDcsAsync();
        var keys = new[] { "members/ghost", $"members/{replica}", "config", "failover", "sync", "history", "status", "initialize", "failsafe", "leader" };
        foreach (var key in keys)
        {
            foreach (var garbage in Garbage)
            {
                var warningsBefore = Warnings(key);
                await PutAsync(key, garbage);
                // Sample the roles until an agent has read the value (it logs it) and one more HA loop (loop_wait
                // 2 s) has had the chance to act on it; 7 s at most when no agent reads it (a rewritten key).
                var putAt = DateTime.UtcNow;
                DateTime? seen = null;
                var maxPrimaries = 0;
                while (DateTime.UtcNow - putAt < TimeSpan.FromSeconds(7) && (seen is null || DateTime.UtcNow - seen < TimeSpan.FromSeconds(2.5)))
                {
                    maxPrimaries = Math.Max(maxPrimaries, (await PrimariesAsync()).Count);
                    if (seen is null && Warnings(key) > warningsBefore) seen = DateTime.UtcNow;
                    await Task.Delay(200);
                }
                foreach (var n in _cluster.Nodes)
                    Assert.False(n.Agent!.HasExited, $"{n.Name}'s agent exited after garbage in {key}:\n{n.Agent.Output[^Math.Min(n.Agent.Output.Length, 3000)..]}");
                Assert.True(maxPrimaries <= 1, $"{maxPrimaries} primaries after garbage in {key}");
                if (key != "leader" && key != "failover")
                {
                    // Nothing to act on: the same leader keeps its lock.
                    Assert.Equal(leader, await _cluster.LeaderAsync());
                }
                if (key == "failover") Assert.Equal(leader, await _cluster.LeaderAsync());
            }
            // Logged by at least one agent, naming the key; once per distinct value, not every loop.
            var logged = _cluster.Nodes.Select(n => CountOf(n.Agent!.Output, $"DCS key {key} holds a value that cannot be used")).ToList();
            output.WriteLine($"{key}: bad-value warnings per agent: {string.Join(", ", logged)}");
            Assert.True(logged.Max() >= 1, $"no agent logged the garbage in {key}");
            Assert.True(logged.Max() <= Garbage.Length + 1, $"garbage in {key} logged {logged.Max()} times by one agent: more than once per value");
            // Put the cluster's own value back (keys the cluster did not have are removed).
            if (key == "leader") await DeleteAsync(key);
            else if (original.TryGetValue(key, out var value)) await PutAsync(key, Encoding.UTF8.GetBytes(value));
            else await DeleteAsync(key);
            var started = DateTime.UtcNow;
            await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
            output.WriteLine($"{key}: healthy again {(DateTime.UtcNow - started).TotalSeconds:F1} s after the key was restored; leader {await _cluster.LeaderAsync()}");
            leader = (await _cluster.LeaderAsync())!;
        }
        // The agents said what they saw.
        var logs = string.Concat(_cluster.Nodes.Select(n => n.Agent!.Output));
        output.WriteLine(string.Join('\n', logs.Split('\n').Where(l => l.Contains("WARN", StringComparison.Ordinal)).Distinct().Take(40)));
    }

    private int Warnings(string key) =>
        _cluster.Nodes.Sum(n => CountOf(n.Agent!.Output, $"DCS key {key} holds a value that cannot be used"));

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
