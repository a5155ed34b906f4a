using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>The agent-core scenario (bootstrap, replication, REST roles, DCS layout, both CLIs) on one backend.</summary>
public abstract class BootstrapScenario<TBackend>(BootstrappedClusterOn<TBackend> fixture, ITestOutputHelper output)
    : IClassFixture<BootstrappedClusterOn<TBackend>> where TBackend : IBackend
{
    private AgentCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task One_leader_and_two_streaming_replicas_each_on_its_slot()
    {
        output.WriteLine($"bootstrap of 3 nodes on {TBackend.Kind} took {fixture.BootstrapTime.TotalSeconds:F1} s");
        var leader = await Cluster.LeaderAsync();
        Assert.NotNull(leader);
        var replicas = Cluster.Nodes.Where(n => n.Name != leader).ToList();
        foreach (var r in replicas) Assert.True(await r.IsStreamingAsync(), $"{r.Name} is not streaming");
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
        await using (var conn = leader.Connect())
        {
            await conn.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE IF NOT EXISTS t (id int primary key); INSERT INTO t SELECT g FROM generate_series(1, 100) g ON CONFLICT DO NOTHING", conn).ExecuteNonQueryAsync();
        }
        foreach (var replica in Cluster.Nodes.Where(n => n != leader))
        {
            await Wait.UntilAsync(async () =>
            {
                await using var conn = replica.Connect();
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
            Assert.Equal(isLeader ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, (await AgentCluster.GetAsync($"{node.RestUrl}/replica")).Code);
            Assert.Equal(HttpStatusCode.OK, (await AgentCluster.GetAsync($"{node.RestUrl}/health")).Code);
        }
        var cluster = JsonNode.Parse((await AgentCluster.GetAsync($"{Cluster.Nodes[0].RestUrl}/cluster")).Body)!;
        Assert.Equal(["node1", "node2", "node3"], cluster["members"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Dcs_holds_patronis_key_layout_and_values()
    {
        var keys = await Cluster.ReadDcsAsync();
        output.WriteLine(string.Join("\n", keys.Keys.Order()));
        Assert.Matches("^[0-9]{10,}$", keys["initialize"]);
        Assert.Equal(10, JsonNode.Parse(keys["config"])!["ttl"]!.GetValue<int>());
        Assert.Contains(keys["leader"], Cluster.Nodes.Select(n => n.Name));
        Assert.True(JsonNode.Parse(keys["status"])!["optime"]!.GetValue<long>() > 0);
        foreach (var node in Cluster.Nodes)
        {
            var member = JsonNode.Parse(keys[$"members/{node.Name}"])!.AsObject();
            Assert.Equal($"http://{node.Spec.Address}:8008/patroni", member["api_url"]!.GetValue<string>());
            Assert.Equal(node.Name == keys["leader"] ? "master" : "replica", member["role"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Debian_patronictl_lists_the_cluster()
    {
        var leader = await Cluster.LeaderAsync();
        string listing = "";
        await Wait.UntilAsync(() =>
        {
            var (code, text) = OsUser.Run(true, "patronictl", "-c", Cluster.Nodes[0].ConfigPath, "list");
            listing = text;
            return code == 0 && Cluster.Nodes.All(n => listing.Split('\n').FirstOrDefault(l => l.StartsWith($"| {n.Name} ", StringComparison.Ordinal)) is { } row &&
                row.Contains(n.Name == leader ? "| Leader " : "| Replica ", StringComparison.Ordinal) && row.Contains("| running |", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20), $"patronictl list on {TBackend.Kind} to show one Leader and two running replicas");
        output.WriteLine(listing);
        Assert.Contains("+ Cluster: " + BootstrappedClusterOn<TBackend>.Scope, listing);
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
        Assert.Equal(BootstrappedClusterOn<TBackend>.Scope, status["patroni"]!["scope"]!.GetValue<string>());

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
    public async Task Pgwarden_list_reads_the_same_store()
    {
        var leader = await Cluster.LeaderAsync();
        var (code, text) = OsUser.Run(true, Path.Combine(Cluster.BinDir, "pgwarden"), "list", "-c", Cluster.Nodes[0].ConfigPath, "-f", "json");
        Assert.True(code == 0, text);
        var rows = JsonNode.Parse(text)!.AsArray();
        Assert.Equal(3, rows.Count);
        foreach (var row in rows)
            Assert.Equal(row!["Member"]!.GetValue<string>() == leader ? "Leader" : "Replica", row["Role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pgwarden_query_and_dsn_reach_the_leader_a_replica_and_a_named_member()
    {
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        var replica = Cluster.Nodes.First(n => n != leader);
        // The password comes from a pgpass file, never from the command line.
        var pgpass = Path.Combine(Path.GetTempPath(), $"pgwarden-query-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pgpass, $"*:*:*:postgres:{Cluster.Spec.SuperuserPassword}\n");
        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            (int Code, string Output) Ctl(params string[] args) =>
                OsUser.Run(true, ["env", $"PGPASSFILE={pgpass}", Path.Combine(Cluster.BinDir, "pgwarden"), .. args, "--config-file", Cluster.Nodes[0].ConfigPath]);

            var (code, text) = Ctl("dsn");
            Assert.True(code == 0, text);
            Assert.Equal($"host={leader.Spec.Address} port={leader.Spec.PgPort}", text.Trim());
            (code, text) = Ctl("dsn", "-m", replica.Name);
            Assert.Equal($"host={replica.Spec.Address} port={replica.Spec.PgPort}", text.Trim());
            (code, text) = Ctl("dsn", "--multi-host");
            Assert.True(code == 0, text);
            var lines = text.Trim().Split('\n');
            Assert.StartsWith($"host={leader.Spec.Address},", lines[0]);
            Assert.EndsWith("target_session_attrs=read-write", lines[0]);
            Assert.EndsWith("target_session_attrs=prefer-standby", lines[1]);
            output.WriteLine(text);

            // The multi-host string works as it is printed: Npgsql lands on the primary with it.
            // (libpq takes host=a,b port=p,q; Npgsql wants Host=a:p,b:q.)
            var fields = lines[0].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
            var hosts = string.Join(',', fields["host"].Split(',').Zip(fields["port"].Split(','), (h, p) => $"{h}:{p}"));
            Assert.Equal("read-write", fields["target_session_attrs"]);
            await using (var conn = new Npgsql.NpgsqlConnection($"Host={hosts};Target Session Attributes=read-write;Username=postgres;Password={Cluster.Spec.SuperuserPassword};Database=postgres;Timeout=5;Pooling=false"))
            {
                await conn.OpenAsync();
                await using var cmd = new Npgsql.NpgsqlCommand("SELECT pg_is_in_recovery()", conn);
                Assert.Equal(false, await cmd.ExecuteScalarAsync());
            }

            (code, text) = Ctl("query", "-U", "postgres", "-c", "SELECT pg_is_in_recovery() AS in_recovery, 1 + 1 AS two");
            Assert.True(code == 0, text);
            Assert.Equal("in_recovery\ttwo\nFalse\t2", text.Trim());
            (code, text) = Ctl("query", "-U", "postgres", "-r", "replica", "-c", "SELECT pg_is_in_recovery()", "--format", "json");
            Assert.True(code == 0, text);
            Assert.Equal("""[{"pg_is_in_recovery": true}]""", text.Trim());
            (code, text) = Ctl("query", "-U", "postgres", "-m", replica.Name, "-c", "SELECT inet_server_addr()::text AS addr");
            Assert.True(code == 0, text);
            Assert.Contains(replica.Spec.Address, text);
            (code, text) = Ctl("query", "-U", "postgres", "-c", "SELECT * FROM no_such_table");
            Assert.NotEqual(0, code);
            Assert.Contains("SQLSTATE: 42P01", text);
            (code, text) = Ctl("query", "-U", "postgres", "-r", "replica", "-m", replica.Name, "-c", "SELECT 1");
            Assert.NotEqual(0, code);
            Assert.Contains("--role and --member are mutually exclusive options", text);
        }
        finally { File.Delete(pgpass); }
    }
}

public sealed class BootstrapOnZooKeeperTests(BootstrappedClusterOn<OnZooKeeper> fixture, ITestOutputHelper output)
    : BootstrapScenario<OnZooKeeper>(fixture, output);

public sealed class BootstrapOnEtcdV2Tests(BootstrappedClusterOn<OnEtcdV2> fixture, ITestOutputHelper output)
    : BootstrapScenario<OnEtcdV2>(fixture, output);

public sealed class BootstrapOnEtcd3Tests(BootstrappedClusterOn<OnEtcd3> fixture, ITestOutputHelper output)
    : BootstrapScenario<OnEtcd3>(fixture, output);
