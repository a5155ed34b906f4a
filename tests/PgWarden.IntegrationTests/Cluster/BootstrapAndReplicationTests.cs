using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>Three agents with Patroni-format YAML files bootstrap one cluster on real etcd and PostgreSQL 15.</summary>
public sealed class BootstrapAndReplicationTests(BootstrappedCluster fixture, ITestOutputHelper output) : IClassFixture<BootstrappedCluster>
{
    private AgentCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task One_leader_and_two_streaming_replicas()
    {
        output.WriteLine($"bootstrap of 3 nodes took {fixture.BootstrapTime.TotalSeconds:F1} s");
        var leader = await Cluster.LeaderAsync();
        Assert.NotNull(leader);
        var replicas = Cluster.Nodes.Where(n => n.Name != leader).ToList();
        Assert.Equal(2, replicas.Count);
        foreach (var r in replicas) Assert.True(await r.IsStreamingAsync(), $"{r.Name} is not streaming");

        // Each replica streams through its own physical slot on the leader, named after the member.
        await using var conn = Cluster.Node(leader!).Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT slot_name FROM pg_replication_slots WHERE active ORDER BY 1", conn);
        var slots = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync()) while (await reader.ReadAsync()) slots.Add(reader.GetString(0));
        Assert.Equal(replicas.Select(r => r.Name).Order(), slots);
    }

    [Fact]
    public async Task Rows_written_on_the_leader_are_read_on_both_replicas()
    {
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        var db = "app" + Guid.NewGuid().ToString("N")[..6];
        await using (var conn = leader.Connect())
        {
            await conn.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {db}", conn).ExecuteNonQueryAsync();
        }
        await using (var conn = leader.Connect(db))
        {
            await conn.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE t (id int primary key, note text); INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g", conn).ExecuteNonQueryAsync();
        }
        foreach (var replica in Cluster.Nodes.Where(n => n != leader))
        {
            await Wait.UntilAsync(async () =>
            {
                await using var conn = replica.Connect(db);
                await conn.OpenAsync();
                return await new NpgsqlCommand("SELECT count(*) FROM t", conn).ExecuteScalarAsync() is 100L;
            }, TimeSpan.FromSeconds(10), $"100 rows on {replica.Name}");
        }
    }

    [Fact]
    public async Task Health_endpoints_route_writes_to_the_leader_and_reads_to_replicas()
    {
        var leader = await Cluster.LeaderAsync();
        foreach (var node in Cluster.Nodes)
        {
            var isLeader = node.Name == leader;
            Assert.Equal(isLeader ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, (await AgentCluster.GetAsync($"{node.RestUrl}/primary")).Code);
            Assert.Equal(isLeader ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, (await AgentCluster.GetAsync($"{node.RestUrl}/read-write")).Code);
            Assert.Equal(isLeader ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, (await AgentCluster.GetAsync($"{node.RestUrl}/replica")).Code);
            Assert.Equal(HttpStatusCode.OK, (await AgentCluster.GetAsync($"{node.RestUrl}/read-only")).Code);
            Assert.Equal(HttpStatusCode.OK, (await AgentCluster.GetAsync($"{node.RestUrl}/health")).Code);
        }
    }

    [Fact]
    public async Task Rest_documents_carry_patroni_field_names()
    {
        var leader = await Cluster.LeaderAsync();
        var leaderNode = Cluster.Node(leader!);
        var status = JsonNode.Parse((await AgentCluster.GetAsync($"{leaderNode.RestUrl}/patroni")).Body)!.AsObject();
        foreach (var field in new[] { "state", "postmaster_start_time", "role", "server_version", "xlog", "timeline", "replication", "database_system_identifier", "patroni" })
            Assert.True(status.ContainsKey(field), $"/patroni lacks {field}: {status}");
        Assert.Equal("master", status["role"]!.GetValue<string>());
        Assert.True(status["xlog"]!["location"]!.GetValue<long>() > 0);
        Assert.Equal("itcore", status["patroni"]!["scope"]!.GetValue<string>());

        var replica = Cluster.Nodes.First(n => n.Name != leader);
        var replicaStatus = JsonNode.Parse((await AgentCluster.GetAsync($"{replica.RestUrl}/patroni")).Body)!;
        Assert.Equal("replica", replicaStatus["role"]!.GetValue<string>());
        Assert.NotNull(replicaStatus["xlog"]!["received_location"]);
        Assert.NotNull(replicaStatus["xlog"]!["replayed_location"]);

        var cluster = JsonNode.Parse((await AgentCluster.GetAsync($"{replica.RestUrl}/cluster")).Body)!;
        var members = cluster["members"]!.AsArray();
        Assert.Equal(["node1", "node2", "node3"], members.Select(m => m!["name"]!.GetValue<string>()));
        foreach (var m in members)
        {
            var name = m!["name"]!.GetValue<string>();
            Assert.Equal(name == leader ? "leader" : "replica", m["role"]!.GetValue<string>());
            // Replicas show their replication state, as Patroni 4.x does (3.0.x showed "running").
            Assert.Equal(name == leader ? "running" : "streaming", m["state"]!.GetValue<string>());
            Assert.Equal($"http://{Cluster.Node(name).Spec.Address}:8008/patroni", m["api_url"]!.GetValue<string>());
            Assert.Equal(Cluster.Node(name).Spec.Address, m["host"]!.GetValue<string>());
            Assert.Equal(5432, m["port"]!.GetValue<int>());
            Assert.Equal(1, m["timeline"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task Dcs_holds_patronis_key_layout_and_values()
    {
        var keys = await Cluster.ReadDcsAsync();
        Assert.Matches("^[0-9]{10,}$", keys["initialize"]);
        var config = JsonNode.Parse(keys["config"])!;
        Assert.Equal(10, config["ttl"]!.GetValue<int>());
        Assert.Equal(2, config["loop_wait"]!.GetValue<int>());
        Assert.Equal(keys["leader"], (await Cluster.LeaderAsync()));
        Assert.True(JsonNode.Parse(keys["status"])!["optime"]!.GetValue<long>() > 0);
        foreach (var node in Cluster.Nodes)
        {
            var member = JsonNode.Parse(keys[$"members/{node.Name}"])!.AsObject();
            Assert.Equal($"postgres://{node.Spec.Address}:5432/postgres", member["conn_url"]!.GetValue<string>());
            Assert.Equal($"http://{node.Spec.Address}:8008/patroni", member["api_url"]!.GetValue<string>());
            Assert.Equal("running", member["state"]!.GetValue<string>());
            Assert.Equal(node.Name == keys["leader"] ? "master" : "replica", member["role"]!.GetValue<string>());
            Assert.Equal("3.0.2", member["version"]!.GetValue<string>());
            Assert.True(member["xlog_location"]!.GetValue<long>() > 0);
            Assert.Equal(1, member["timeline"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task Debian_patronictl_lists_the_cluster()
    {
        var leader = await Cluster.LeaderAsync();
        // patronictl reads the member keys straight from etcd; replicas' lag converges within a loop.
        string listing = "";
        await Wait.UntilAsync(() =>
        {
            var (code, text) = OsUser.Run(true, "patronictl", "-c", Cluster.Nodes[0].ConfigPath, "list");
            listing = text;
            return code == 0 && Cluster.Nodes.All(n => RowOf(text, n.Name) is { } row &&
                row.Contains(n.Name == leader ? "| Leader " : "| Replica ", StringComparison.Ordinal) &&
                row.Contains("| running |", StringComparison.Ordinal) && row.Contains("|  1 |", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(15), "patronictl list to show one Leader and two running replicas on TL 1");
        output.WriteLine(listing);
        Assert.Contains("+ Cluster: itcore", listing);
    }

    [Fact]
    public async Task Pgwarden_list_matches_the_dcs()
    {
        var leader = await Cluster.LeaderAsync();
        var (code, text) = OsUser.Run(true, Path.Combine(Cluster.BinDir, "pgwarden"), "list", "-c", Cluster.Nodes[0].ConfigPath, "-f", "json");
        Assert.True(code == 0, text);
        var rows = JsonNode.Parse(text)!.AsArray();
        Assert.Equal(3, rows.Count);
        foreach (var row in rows)
        {
            var name = row!["Member"]!.GetValue<string>();
            Assert.Equal(name == leader ? "Leader" : "Replica", row["Role"]!.GetValue<string>());
            Assert.Equal("itcore", row[nameof(Cluster)]!.GetValue<string>());
        }
    }

    private static string? RowOf(string listing, string member) =>
        listing.Split('\n').FirstOrDefault(l => l.StartsWith($"| {member} ", StringComparison.Ordinal));
}
