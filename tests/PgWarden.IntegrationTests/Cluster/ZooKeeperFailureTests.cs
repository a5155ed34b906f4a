using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.Dcs;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>What only ZooKeeper has: the session is the lease, and an ensemble survives the loss of one server.</summary>
public sealed class ZooKeeperFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Leader_whose_session_expires_loses_the_lock_and_demotes_when_it_wakes()
    {
        // ttl 10 → session timeout 10 s.
        await using var cluster = await AgentCluster.StartAsync("itzkexp", 2, dcs: DcsKind.ZooKeeper);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var oldLeader = cluster.Node((await cluster.LeaderAsync())!);
        var other = cluster.Nodes.Single(n => n != oldLeader);

        var sw = Stopwatch.StartNew();
        oldLeader.Agent!.Signal("STOP");
        try
        {
            await Wait.UntilAsync(async () => await cluster.LeaderAsync() != oldLeader.Name, TimeSpan.FromSeconds(30),
                "the stopped leader's znode to vanish with its session");
            output.WriteLine($"leader znode of {oldLeader.Name} gone {sw.Elapsed.TotalSeconds:F1} s after SIGSTOP (session timeout 10 s)");
            // Its PostgreSQL still answers as a primary (a frozen agent cannot fence itself): the replica must not
            // promote now, or two servers would accept writes. It waits while the old primary answers as one.
            var waitUntil = sw.Elapsed + TimeSpan.FromSeconds(5);
            while (sw.Elapsed < waitUntil)
            {
                Assert.NotEqual(other.Name, await cluster.LeaderAsync());
                await Task.Delay(250);
            }
        }
        finally
        {
            oldLeader.Agent!.Signal("CONT");
        }
        var resumed = sw.Elapsed;

        // Awake again, the old leader learns its session expired: renewal fails, it demotes; only then does the
        // replica take the lock (demoted before a replica is promoted).
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var conn = oldLeader.Connect();
                await conn.OpenAsync();
                return await new NpgsqlCommand("SELECT pg_is_in_recovery()", conn).ExecuteScalarAsync() is true;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return false;   // stopped while demoting
            }
        }, TimeSpan.FromSeconds(60), $"{oldLeader.Name} to stop being a primary", TimeSpan.FromMilliseconds(200));
        output.WriteLine($"{oldLeader.Name} is no longer a primary {(sw.Elapsed - resumed).TotalSeconds:F1} s after SIGCONT");
        await Wait.UntilAsync(async () => await cluster.LeaderAsync() == other.Name, TimeSpan.FromSeconds(30), $"{other.Name} to take the lock");
        output.WriteLine($"{other.Name} holds the lock {(sw.Elapsed - resumed).TotalSeconds:F1} s after SIGCONT");
        Assert.Contains("session", oldLeader.Agent!.Output + File.ReadAllText(oldLeader.Agent.LogPath), StringComparison.OrdinalIgnoreCase);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(other.Name, await cluster.LeaderAsync());
        output.WriteLine($"cluster healthy again with {oldLeader.Name} replicating, {(sw.Elapsed - resumed).TotalSeconds:F1} s after SIGCONT");
    }

    [Fact]
    public async Task Three_server_ensemble_losing_one_server_keeps_the_cluster_up()
    {
        await using var cluster = await AgentCluster.StartAsync("itzkens", 2, dcs: DcsKind.ZooKeeper, zooKeeperServers: 3);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var leader = await cluster.LeaderAsync();
        var zkLeader = await cluster.ZooKeeper.LeaderIndexAsync();
        output.WriteLine($"ZooKeeper quorum leader is server {zkLeader + 1}; PostgreSQL leader is {leader}");

        var sw = Stopwatch.StartNew();
        cluster.ZooKeeper.Kill(zkLeader);
        // Three ttl periods: every agent must keep its session (moving to a surviving server) and nobody changes role.
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var node in cluster.Nodes)
            {
                var (code, body) = await AgentCluster.GetAsync($"{node.RestUrl}/patroni");
                Assert.Equal(HttpStatusCode.OK, code);
                Assert.Equal(node.Name == leader ? "master" : "replica", JsonNode.Parse(body)!["role"]!.GetValue<string>());
            }
            await Task.Delay(1000);
        }
        Assert.Equal(leader, await cluster.LeaderAsync());
        await using (var conn = cluster.Node(leader!).Connect())
        {
            await conn.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE survived (id int)", conn).ExecuteNonQueryAsync();
        }
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{leader} kept the lock and both nodes their roles for {sw.Elapsed.TotalSeconds:F0} s with one of three ZooKeeper servers down");
    }
}
