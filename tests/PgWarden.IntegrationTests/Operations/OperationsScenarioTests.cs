using System.Globalization;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Operations;

/// <summary>Dynamic configuration and node operations on a real 3-node cluster (issue 4's must-show scenarios).</summary>
[Collection("operations")]
public sealed class OperationsScenarioTests(OperationsCluster fixture, ITestOutputHelper output) : IClassFixture<OperationsCluster>
{
    private AgentCluster Cluster => fixture.Cluster;
    private string Pgwarden => Path.Combine(Cluster.BinDir, "pgwarden");
    private string ConfigPath => Cluster.Nodes[0].ConfigPath;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private (int Code, string Output) Ctl(params string[] args)
    {
        var (code, text) = OsUser.Run(true, [Pgwarden, .. args.Take(1), "-c", ConfigPath, .. args.Skip(1)]);
        output.WriteLine($"$ pgwarden {string.Join(' ', args)}\n{text}");
        return (code, text);
    }

    private static async Task<string> ShowAsync(ClusterNode node, string name)
    {
        await using var conn = node.Connect();
        await conn.OpenAsync();
        return (string)(await new NpgsqlCommand($"SHOW {name}", conn).ExecuteScalarAsync())!;
    }

    private async Task<JsonObject> MemberKeyAsync(string name) =>
        JsonNode.Parse((await Cluster.ReadDcsAsync())["members/" + name])!.AsObject();

    [Fact]
    public async Task Reloadable_parameters_pg_hba_and_wal_keep_segments_apply_everywhere_without_a_restart()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        await using (var conn = leader.Connect())
        {
            await conn.OpenAsync();
            await new NpgsqlCommand("DROP ROLE IF EXISTS hbaprobe; CREATE ROLE hbaprobe LOGIN PASSWORD 'probe-secret'", conn).ExecuteNonQueryAsync();
        }
        var postmasters = Cluster.Nodes.ToDictionary(n => n.Name, n => n.PostmasterPid());

        var sw = Stopwatch.StartNew();
        var hba = string.Join(", ", new[] { "host all hbaprobe 127.0.0.1/32 reject" }.Concat(OperationsCluster.HbaLines).Select(l => $"'{l}'"));
        var (code, text) = Ctl("edit-config", "--force", "-p", "work_mem=8MB", "-s", "postgresql.parameters.wal_keep_size=null",
            "-p", "wal_keep_segments=10", "-s", $"postgresql.pg_hba=[{hba}]");
        Assert.True(code == 0, text);
        Assert.Contains("+    work_mem: 8MB", text);
        Assert.Contains("Configuration changed", text);

        foreach (var node in Cluster.Nodes)
        {
            await Wait.UntilAsync(async () => await ShowAsync(node, "work_mem") == "8MB" && await ShowAsync(node, "wal_keep_size") == "160MB",
                TimeSpan.FromSeconds(15), $"work_mem 8MB and wal_keep_size 160MB on {node.Name}");
        }
        output.WriteLine($"work_mem=8MB and wal_keep_segments=10 (as wal_keep_size=160MB) live on all three {sw.Elapsed.TotalSeconds:F1} s after the edit (loop_wait {Cluster.Spec.LoopWait} s)");

        foreach (var node in Cluster.Nodes)
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    await using var c = new NpgsqlConnection($"Host={node.Spec.Address};Port={node.Spec.PgPort};Username=hbaprobe;Password=probe-secret;Database=postgres;Pooling=false;Timeout=3");
                    await c.OpenAsync();
                    return false;
                }
                catch (PostgresException e) when (e.SqlState == "28000") { return true; }
            }, TimeSpan.FromSeconds(15), $"the pg_hba reject line to take effect on {node.Name}");
            Assert.Equal(postmasters[node.Name], node.PostmasterPid());
            Assert.False((await MemberKeyAsync(node.Name)).ContainsKey("pending_restart"), $"{node.Name} shows a pending restart");
        }
        Assert.Equal(leader.Name, await Cluster.LeaderAsync());
        var (showCode, shown) = Ctl("show-config");
        Assert.Equal(0, showCode);
        Assert.Contains("wal_keep_segments: 10", shown);
    }

    [Fact]
    public async Task Invalid_edits_are_refused_and_garbage_in_the_config_key_is_ignored_by_running_agents()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var before = (await Cluster.ReadDcsAsync())["config"];
        foreach (var (args, key) in new[]
        {
            (new[] { "-s", "ttl=5", "-s", "loop_wait=10" }, "ttl"),
            (new[] { "-p", "max_connections=-1" }, "max_connections"),
            (new[] { "-s", "ttl=abc" }, "abc"),
        })
        {
            var (code, text) = Ctl(["edit-config", "--force", .. args]);
            Assert.NotEqual(0, code);
            Assert.Contains(key, text);
            Assert.Equal(before, (await Cluster.ReadDcsAsync())["config"]);
        }

        await PutKeyAsync("config", "{this is not json");
        await Task.Delay(TimeSpan.FromSeconds(3 * Cluster.Spec.LoopWait));
        foreach (var node in Cluster.Nodes)
        {
            Assert.Contains("is not usable and is ignored", await File.ReadAllTextAsync(node.Agent!.LogPath));
            var (code, body) = await AgentCluster.GetAsync(node.RestUrl + "/patroni");
            Assert.Equal(HttpStatusCode.OK, code);
            Assert.Equal("running", JsonNode.Parse(body)!["state"]!.ToString());
        }
        Assert.NotNull(await Cluster.LeaderAsync());
        await PutKeyAsync("config", """{"ttl": "abc", "loop_wait": 2}""");
        await Task.Delay(TimeSpan.FromSeconds(2 * Cluster.Spec.LoopWait));
        Assert.NotNull(await Cluster.LeaderAsync());
        await PutKeyAsync("config", before);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Restart_requiring_change_is_pending_everywhere_and_a_rolling_restart_applies_it_without_failover_or_lost_writes()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leaderName = (await Cluster.LeaderAsync())!;
        var leader = Cluster.Node(leaderName);
        var historyBefore = (await Cluster.ReadDcsAsync()).GetValueOrDefault("history");
        await using (var conn = leader.Connect())
        {
            await conn.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE IF NOT EXISTS probe_writes (id bigint primary key)", conn).ExecuteNonQueryAsync();
        }

        // The probe client: inserts through whichever node is the leader, remembering what was acknowledged.
        using var stopProbe = new CancellationTokenSource();
        var acknowledged = new List<long>();
        var failures = 0;
        var probe = Task.Run(async () =>
        {
            long id = 0;
            while (!stopProbe.IsCancellationRequested)
            {
                id++;
                try
                {
                    var current = Cluster.Node((await Cluster.LeaderAsync()) ?? leaderName);
                    await using var c = current.Connect();
                    await c.OpenAsync();
                    await new NpgsqlCommand($"INSERT INTO probe_writes VALUES ({id})", c).ExecuteNonQueryAsync();
                    lock (acknowledged) acknowledged.Add(id);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or HttpRequestException or InvalidOperationException)
                {
                    failures++;
                }
                await Task.Delay(50);
            }
        });

        var sw = Stopwatch.StartNew();
        var (code, text) = Ctl("edit-config", "--force", "-p", "shared_buffers=128MB", "-p", "max_connections=200", "-p", "shared_preload_libraries=pg_stat_statements");
        Assert.True(code == 0, text);
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => (await MemberKeyAsync(node.Name))["pending_restart"]?.GetValue<bool>() == true,
                TimeSpan.FromSeconds(20), $"pending_restart in {node.Name}'s member key");
        var pendingAfter = sw.Elapsed;
        var reason = (await MemberKeyAsync(leaderName))["pending_restart_reason"]!.AsObject();
        Assert.Equal("200", reason["max_connections"]!["new_value"]!.ToString());
        var (patroniCode, patroni) = await AgentCluster.GetAsync(leader.RestUrl + "/patroni");
        Assert.Equal(HttpStatusCode.OK, patroniCode);
        Assert.True(JsonNode.Parse(patroni)!["pending_restart"]!.GetValue<bool>());
        var (_, metrics) = await AgentCluster.GetAsync(leader.RestUrl + "/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("patroni_pending_restart{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        var (listCode, listing) = Ctl("list");
        Assert.Equal(0, listCode);
        Assert.Contains("Pending restart", listing);

        var restartStarted = sw.Elapsed;
        (code, text) = Ctl("restart", "itops", "--pending", "--force");
        Assert.True(code == 0, text);
        var lines = text.Split('\n').Where(l => l.StartsWith("Success: restart on member", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lines.Count);
        Assert.EndsWith(leaderName, lines[^1].Trim());
        foreach (var node in Cluster.Nodes)
        {
            await Wait.UntilAsync(async () => await ShowAsync(node, "shared_buffers") == "128MB" && await ShowAsync(node, "max_connections") == "200"
                && await ShowAsync(node, "shared_preload_libraries") == "pg_stat_statements", TimeSpan.FromSeconds(30), $"new values on {node.Name}");
        }
        var allNew = sw.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stopProbe.CancelAsync();
        await probe;

        output.WriteLine($"edit -> pending restart on all three: {pendingAfter.TotalSeconds:F1} s; rolling restart took {(allNew - restartStarted).TotalSeconds:F1} s; " +
                         $"edit -> all nodes running with the new values: {allNew.TotalSeconds:F1} s; probe: {acknowledged.Count} acknowledged, {failures} refused");
        Assert.Equal(leaderName, await Cluster.LeaderAsync());
        Assert.Equal(historyBefore, (await Cluster.ReadDcsAsync()).GetValueOrDefault("history"));
        await using (var conn = leader.Connect())
        {
            await conn.OpenAsync();
            var present = new HashSet<long>();
            await using (var reader = await new NpgsqlCommand("SELECT id FROM probe_writes", conn).ExecuteReaderAsync())
                while (await reader.ReadAsync()) present.Add(reader.GetInt64(0));
            var lost = acknowledged.Where(id => !present.Contains(id)).ToList();
            Assert.True(lost.Count == 0, $"acknowledged writes lost: {string.Join(',', lost)}");
            await new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", conn).ExecuteNonQueryAsync();
            Assert.NotNull(await new NpgsqlCommand("SELECT count(*) FROM pg_stat_statements", conn).ExecuteScalarAsync());
        }
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => !(await MemberKeyAsync(node.Name)).ContainsKey("pending_restart"),
                TimeSpan.FromSeconds(10), $"no pending restart on {node.Name}");
        Assert.True(acknowledged.Count > 0);
    }

    [Fact]
    public async Task A_lowered_max_connections_is_applied_everywhere_by_one_restart_pending_that_restarts_the_replicas_again_after_the_leader()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leaderName = (await Cluster.LeaderAsync())!;
        var current = int.Parse(await ShowAsync(Cluster.Node(leaderName), "max_connections"), CultureInfo.InvariantCulture);
        var lowered = (current - 10).ToString(CultureInfo.InvariantCulture);

        var sw = Stopwatch.StartNew();
        var (code, text) = Ctl("edit-config", "--force", "-p", $"max_connections={lowered}");
        Assert.True(code == 0, text);
        // Only the leader is pending: a replica keeps the value the primary recorded in its pg_control.
        await Wait.UntilAsync(async () => (await MemberKeyAsync(leaderName))["pending_restart"]?.GetValue<bool>() == true,
            TimeSpan.FromSeconds(20), $"pending_restart in the leader {leaderName}'s member key");

        // The leader first (a replica cannot run below the primary's value), then each replica once it has replayed the
        // leader's restart and turned pending.
        (code, text) = Ctl("restart", "itops", "--pending", "--force");
        Assert.True(code == 0, text);
        var successes = text.Split('\n').Where(l => l.StartsWith("Success: restart on member", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, successes.Count);
        Assert.EndsWith(leaderName, successes[0].Trim());
        foreach (var replica in Cluster.Nodes.Where(n => n.Name != leaderName))
            Assert.Contains($"Member {replica.Name} is pending restart once it has the leader's lowered max_connections", text);
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => await ShowAsync(node, "max_connections") == lowered, TimeSpan.FromSeconds(30), $"max_connections {lowered} on {node.Name}");
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => !(await MemberKeyAsync(node.Name)).ContainsKey("pending_restart"),
                TimeSpan.FromSeconds(20), $"no pending restart on {node.Name}");
        output.WriteLine($"max_connections {current} -> {lowered}: edit to every node running it and none pending {sw.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(leaderName, await Cluster.LeaderAsync());
    }

    [Fact]
    public async Task Reinit_of_a_replica_brings_it_back_streaming_and_reinit_of_the_leader_is_refused()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leaderName = (await Cluster.LeaderAsync())!;
        var replica = Cluster.Nodes.First(n => n.Name != leaderName);
        using var refused = await Http.PostAsync(Cluster.Node(leaderName).RestUrl + "/reinitialize", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("I am the leader, can not reinitialize", await refused.Content.ReadAsStringAsync());

        var pidBefore = replica.PostmasterPid();
        var sw = Stopwatch.StartNew();
        var (code, text) = Ctl("reinit", "itops", replica.Name, "--force", "--wait");
        Assert.True(code == 0, text);
        Assert.Contains($"Success: reinitialize for member {replica.Name}", text);
        await Wait.UntilAsync(replica.IsStreamingAsync, TimeSpan.FromSeconds(60), $"{replica.Name} streaming after reinit");
        output.WriteLine($"reinit of {replica.Name} took {sw.Elapsed.TotalSeconds:F1} s");
        Assert.NotEqual(pidBefore, replica.PostmasterPid());
        Assert.Equal(leaderName, await Cluster.LeaderAsync());
    }

    [Fact]
    public async Task Callbacks_record_start_restart_and_reload_with_patronis_arguments()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leaderName = (await Cluster.LeaderAsync())!;
        var leader = Cluster.Node(leaderName);
        var replica = Cluster.Nodes.First(n => n.Name != leaderName);
        Assert.Contains("on_start master itops", fixture.CallbackLines(leader));
        await Wait.UntilAsync(() => fixture.CallbackLines(replica).Contains("on_start replica itops"), TimeSpan.FromSeconds(10), "on_start on a replica");

        using var restart = await Http.PostAsync(replica.RestUrl + "/restart", new StringContent("", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, restart.StatusCode);
        Assert.Equal("restarted successfully", await restart.Content.ReadAsStringAsync());
        await Wait.UntilAsync(() => fixture.CallbackLines(replica).Contains("on_restart replica itops"), TimeSpan.FromSeconds(10), "on_restart on the replica");

        using var reload = await Http.PostAsync(leader.RestUrl + "/reload", null);
        Assert.Equal(HttpStatusCode.Accepted, reload.StatusCode);
        await Wait.UntilAsync(() => fixture.CallbackLines(leader).Contains("on_reload master itops"), TimeSpan.FromSeconds(10), "on_reload on the leader");
        foreach (var n in Cluster.Nodes) output.WriteLine($"{n.Name}: {string.Join(" | ", fixture.CallbackLines(n))}");
    }

    [Fact]
    public async Task Debian_patronictl_show_config_edit_config_reload_and_restart_work()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var leaderName = (await Cluster.LeaderAsync())!;
        var replica = Cluster.Nodes.First(n => n.Name != leaderName);
        (int, string) Patronictl(params string[] args)
        {
            var r = OsUser.Run(true, ["patronictl", "-c", ConfigPath, .. args]);
            output.WriteLine($"$ patronictl {string.Join(' ', args)}\n{r.Output}");
            return r;
        }
        var (code, text) = Patronictl("show-config");
        Assert.Equal(0, code);
        Assert.Contains("loop_wait: 2", text);
        (code, text) = Patronictl("edit-config", "itops", "-p", "maintenance_work_mem=96MB", "--force");
        Assert.True(code == 0, text);
        Assert.Contains("Configuration changed", text);
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => await ShowAsync(node, "maintenance_work_mem") == "96MB", TimeSpan.FromSeconds(15), $"96MB on {node.Name}");
        (code, text) = Patronictl("reload", "itops", "--force");
        Assert.True(code == 0, text);
        Assert.Contains("Reload request received for member", text);
        (code, text) = Patronictl("restart", "itops", replica.Name, "--force");
        Assert.True(code == 0, text);
        Assert.Contains($"Success: restart on member {replica.Name}", text);
        await Wait.UntilAsync(replica.IsStreamingAsync, TimeSpan.FromSeconds(30), $"{replica.Name} streaming after the restart");
        Assert.Equal(leaderName, await Cluster.LeaderAsync());
    }

    private async Task PutKeyAsync(string key, string value)
    {
        var body = new JsonObject
        {
            ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"/service/{Cluster.Scope}/{key}")),
            ["value"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value)),
        };
        using var response = await Http.PostAsync($"http://{Cluster.Etcd.Endpoints[0]}/v3/kv/put", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }
}
