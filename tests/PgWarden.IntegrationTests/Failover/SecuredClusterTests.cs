using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>
/// A 3-node etcd3 cluster configured as a careful operator would: REST write endpoints behind basic auth
/// (restapi.authentication, ctl.authentication for the CLIs) and a callback script on every node that appends
/// "action role scope" to a file per OS user.
/// </summary>
public sealed class SecuredCluster : IAsyncLifetime
{
    public const string User = "admin";
    public const string Password = "s3cret-pw";
    public AgentCluster Cluster { get; private set; } = null!;
    public string CallbackDir { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Cluster = await AgentCluster.StartAsync("itsec", 3, startAgents: false);
        var recorder = await CallbackRecorder.InstallAsync(Cluster);
        CallbackDir = recorder.Dir;
        var script = recorder.Script;
        foreach (var node in Cluster.Nodes)
        {
            var yaml = await File.ReadAllTextAsync(node.ConfigPath);
            var restapi = $"  connect_address: {node.Spec.Address}:{node.Spec.RestPort}\n";
            yaml = yaml.Replace(restapi, restapi + $"  authentication:\n    username: {User}\n    password: {Password}\n", StringComparison.Ordinal)
                .Replace("  pg_hba:\n  - local all all trust\n", "  callbacks:\n" + string.Concat(new[] { "on_start", "on_stop", "on_restart", "on_reload", "on_role_change" }
                    .Select(a => $"    {a}: {script}\n")) + "  pg_hba:\n  - local all all trust\n", StringComparison.Ordinal);
            yaml += $"ctl:\n  authentication:\n    username: {User}\n    password: {Password}\n";
            if (!yaml.Contains("callbacks:", StringComparison.Ordinal) || !yaml.Contains(restapi + "  authentication:", StringComparison.Ordinal))
                throw new InvalidOperationException("the node YAML template changed; adjust SecuredCluster:\n" + yaml);
            await File.WriteAllTextAsync(node.ConfigPath, yaml);
            node.Start();
        }
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(150));
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        await WriteProbe.CreateTableAsync(leader);
        await SplitBrainChecker.CreateTableAsync(leader);
    }

    public string[] CallbackLines(ClusterNode node)
    {
        var path = Path.Combine(CallbackDir, node.OsUserName + ".log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Basic auth on write endpoints, PATCH/PUT /config, failover from the CLI without a terminal, callbacks during a
/// switchover, reload (REST, CLI, SIGHUP) re-reading the local YAML, and a hung (SIGSTOP) leader postmaster.
/// Every test starts from a healthy cluster and leaves one behind.
/// </summary>
public sealed class SecuredClusterTests(SecuredCluster fixture, ITestOutputHelper output) : IClassFixture<SecuredCluster>
{
    private AgentCluster Cluster => fixture.Cluster;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private async Task<ClusterNode> HealthyLeaderAsync()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        return Cluster.Node((await Cluster.LeaderAsync())!);
    }

    private static async Task<(HttpStatusCode Code, string Body)> SendAsync(HttpMethod method, string url, string? json, string? user, string? password)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (user is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<(HttpStatusCode Code, string Body)> AuthedAsync(HttpMethod method, string url, string? json = null) =>
        SendAsync(method, url, json, SecuredCluster.User, SecuredCluster.Password);

    /// <summary>Runs a command with stdin a closed pipe: never a terminal, and a prompt would read end-of-file.</summary>
    private static (int Code, string Output, TimeSpan Took) RunWithoutTty(params string[] args)
    {
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromSeconds(90))) { p.Kill(true); throw new TimeoutException($"{string.Join(' ', args)} still running after 90 s"); }
        return (p.ExitCode, stdout + stderr.Result, sw.Elapsed);
    }

    private static async Task<string> ShowAsync(ClusterNode node, string parameter)
    {
        await using var conn = node.Connect();
        await conn.OpenAsync();
        return (string)(await new NpgsqlCommand($"SHOW {parameter}", conn).ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Write_endpoints_need_basic_auth_and_both_clis_send_ctl_authentication()
    {
        var leader = await HealthyLeaderAsync();
        foreach (var (method, path, body) in new[] { (HttpMethod.Post, "/reload", (string?)null), (HttpMethod.Patch, "/config", "{}"),
                     (HttpMethod.Put, "/config", "{}"), (HttpMethod.Post, "/restart", "{}"), (HttpMethod.Delete, "/switchover", null),
                     (HttpMethod.Post, "/switchover", """{"leader":"x"}"""), (HttpMethod.Post, "/failover", """{"candidate":"x"}"""),
                     (HttpMethod.Post, "/reinitialize", "{}") })
        {
            var (none, _) = await SendAsync(method, leader.RestUrl + path, body, null, null);
            var (wrong, _) = await SendAsync(method, leader.RestUrl + path, body, SecuredCluster.User, "wrong");
            var (wrongUser, _) = await SendAsync(method, leader.RestUrl + path, body, "nobody", SecuredCluster.Password);
            output.WriteLine($"{method} {path}: no credentials {(int)none}, wrong password {(int)wrong}, wrong user {(int)wrongUser}");
            Assert.Equal(HttpStatusCode.Unauthorized, none);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, wrongUser);
        }
        Assert.Equal(HttpStatusCode.OK, (await AgentCluster.GetAsync(leader.RestUrl + "/patroni")).Code);   // reads stay open
        var (code, text) = await AuthedAsync(HttpMethod.Post, leader.RestUrl + "/reload");
        Assert.Equal((HttpStatusCode.Accepted, "reload scheduled"), (code, text));
        (code, text) = await AuthedAsync(HttpMethod.Patch, leader.RestUrl + "/config", """{"postgresql":{"parameters":{"work_mem":null}}}""");
        Assert.True(code == HttpStatusCode.OK, text);

        var (ctlCode, ctlText) = OsUser.Run(true, "patronictl", "-c", leader.ConfigPath, "reload", Cluster.Scope, leader.Name, "--force");
        output.WriteLine(ctlText);
        Assert.True(ctlCode == 0, ctlText);
        Assert.Contains($"Reload request received for member {leader.Name}", ctlText);   // patronictl's text for 202
        (ctlCode, ctlText) = Scenario.Pgwarden("reload", Cluster.Scope, leader.Name, "-c", leader.ConfigPath, "--force");
        output.WriteLine(ctlText);
        Assert.True(ctlCode == 0, ctlText);
        Assert.Contains($"Reload request received for member {leader.Name}", ctlText);

        // The same CLI with a file whose ctl/restapi credentials are wrong is refused by the agent.
        var badConfig = Path.Combine(Cluster.Root, "bad-auth.yml");
        await File.WriteAllTextAsync(badConfig, (await File.ReadAllTextAsync(leader.ConfigPath)).Replace(SecuredCluster.Password, "wrong", StringComparison.Ordinal));
        (ctlCode, ctlText) = OsUser.Run(true, "patronictl", "-c", badConfig, "reload", Cluster.Scope, leader.Name, "--force");
        output.WriteLine(ctlText);
        Assert.Contains("401", ctlText);
        (ctlCode, ctlText) = Scenario.Pgwarden("reload", Cluster.Scope, leader.Name, "-c", badConfig, "--force");
        output.WriteLine(ctlText);
        Assert.NotEqual(0, ctlCode);
        Assert.Contains("401", ctlText);
    }

    [Fact]
    public async Task Patch_merges_and_null_deletes_put_replaces_invalid_changes_are_refused_and_concurrent_patches_never_both_win()
    {
        var leader = await HealthyLeaderAsync();
        var url = leader.RestUrl + "/config";
        async Task<JsonObject> ConfigKeyAsync() => JsonNode.Parse((await Cluster.ReadDcsAsync())["config"])!.AsObject();

        var (code, body) = await AuthedAsync(HttpMethod.Patch, url, """{"postgresql":{"parameters":{"work_mem":"9MB","temp_buffers":"16MB"}},"maximum_lag_on_failover":2097152}""");
        output.WriteLine($"PATCH merge -> {(int)code} {body}");
        Assert.Equal(HttpStatusCode.OK, code);
        var config = await ConfigKeyAsync();
        Assert.Equal("9MB", config["postgresql"]!["parameters"]!["work_mem"]!.GetValue<string>());
        Assert.Equal("replica", config["postgresql"]!["parameters"]!["wal_level"]!.GetValue<string>());   // merged, not replaced
        Assert.Equal(2097152, config["maximum_lag_on_failover"]!.GetValue<long>());
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => await ShowAsync(node, "work_mem") == "9MB", TimeSpan.FromSeconds(15), $"work_mem 9MB on {node.Name}");

        (code, body) = await AuthedAsync(HttpMethod.Patch, url, """{"postgresql":{"parameters":{"temp_buffers":null}}}""");
        Assert.Equal(HttpStatusCode.OK, code);
        config = await ConfigKeyAsync();
        Assert.Null(config["postgresql"]!["parameters"]!["temp_buffers"]);
        Assert.Equal("9MB", config["postgresql"]!["parameters"]!["work_mem"]!.GetValue<string>());

        var before = (await Cluster.ReadDcsAsync())["config"];
        foreach (var bad in new[] { """{"ttl":5}""", """{"ttl":"abc"}""", """{"postgresql":{"parameters":{"max_connections":-1}}}""" })
        {
            (code, body) = await AuthedAsync(HttpMethod.Patch, url, bad);
            output.WriteLine($"PATCH {bad} -> {(int)code} {body}");
            Assert.Equal(HttpStatusCode.BadRequest, code);
            Assert.StartsWith("invalid configuration:", body);
            Assert.Equal(before, (await Cluster.ReadDcsAsync())["config"]);
        }
        var replaced = (JsonObject)config.DeepClone();
        replaced["ttl"] = 3;
        (code, body) = await AuthedAsync(HttpMethod.Put, url, replaced.ToJsonString());
        output.WriteLine($"PUT ttl 3 -> {(int)code} {body}");
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal(before, (await Cluster.ReadDcsAsync())["config"]);

        // PUT replaces the whole key: a key left out is gone.
        replaced = (JsonObject)config.DeepClone();
        replaced.Remove("maximum_lag_on_failover");
        ((JsonObject)replaced["postgresql"]!["parameters"]!).Remove("work_mem");
        (code, body) = await AuthedAsync(HttpMethod.Put, url, replaced.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, code);
        config = await ConfigKeyAsync();
        Assert.Null(config["maximum_lag_on_failover"]);
        Assert.Null(config["postgresql"]!["parameters"]!["work_mem"]);
        foreach (var node in Cluster.Nodes)
            await Wait.UntilAsync(async () => await ShowAsync(node, "work_mem") == "4MB", TimeSpan.FromSeconds(15), $"work_mem back to 4MB on {node.Name}");

        // Concurrent PATCHes read the same revision; the compare-and-set lets exactly one of each race win.
        var values = Enumerable.Range(1, 6).Select(i => $"{i + 10}MB").ToArray();
        var results = await Task.WhenAll(values.Select(v => AuthedAsync(HttpMethod.Patch, url, "{\"postgresql\":{\"parameters\":{\"work_mem\":\"" + v + "\"}}}")));
        output.WriteLine("concurrent PATCH answers: " + string.Join(", ", results.Select(r => (int)r.Code)));
        Assert.All(results, r => Assert.True(r.Code is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{(int)r.Code} {r.Body}"));
        var winners = values.Where((v, i) => results[i].Code == HttpStatusCode.OK).ToList();
        Assert.NotEmpty(winners);
        Assert.Contains((await ConfigKeyAsync())["postgresql"]!["parameters"]!["work_mem"]!.GetValue<string>(), winners);
        output.WriteLine($"{results.Count(r => r.Code == HttpStatusCode.Conflict)} of {results.Length} concurrent PATCHes got 409 Conflict");
        (code, _) = await AuthedAsync(HttpMethod.Patch, url, """{"postgresql":{"parameters":{"work_mem":null}}}""");
        Assert.Equal(HttpStatusCode.OK, code);
    }

    [Fact]
    public async Task Failover_from_the_cli_without_a_terminal_never_prompts_and_reports_the_new_leader_and_the_time()
    {
        var leader = await HealthyLeaderAsync();
        var candidate = Cluster.Nodes.First(n => n != leader);
        var pgwarden = Path.Combine(PublishedBinaries.Directory, "pgwarden");

        // No --force and no terminal: no prompt, the failover happens and is reported.
        var (code, text, took) = RunWithoutTty(pgwarden, "failover", Cluster.Scope, "-c", leader.ConfigPath, "--candidate", candidate.Name);
        output.WriteLine($"pgwarden failover (no TTY, no --force), {took.TotalSeconds:F1} s:\n{text}");
        Assert.True(code == 0, text);
        Assert.DoesNotContain("[y/N]", text);
        Assert.Matches($@"New leader: {candidate.Name} \(took [0-9.]+ s\)", text);
        Assert.Equal(candidate.Name, await Cluster.LeaderAsync());
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));

        (code, text, took) = RunWithoutTty(pgwarden, "failover", Cluster.Scope, "-c", leader.ConfigPath, "--candidate", leader.Name, "--force");
        output.WriteLine($"pgwarden failover --force, {took.TotalSeconds:F1} s:\n{text}");
        Assert.True(code == 0, text);
        Assert.Matches($@"New leader: {leader.Name} \(took [0-9.]+ s\)", text);
        Assert.Equal(leader.Name, await Cluster.LeaderAsync());

        // A candidate that does not exist: refused, still without a prompt.
        (code, text, _) = RunWithoutTty(pgwarden, "failover", Cluster.Scope, "-c", leader.ConfigPath, "--candidate", "node9", "--force");
        output.WriteLine(text);
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("[y/N]", text);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Callbacks_record_on_role_change_on_both_nodes_of_a_switchover_and_on_reload_on_every_node()
    {
        var leader = await HealthyLeaderAsync();
        var candidate = Cluster.Nodes.First(n => n != leader);
        var scope = Cluster.Scope;
        var beforeLeader = fixture.CallbackLines(leader).Length;
        var beforeCandidate = fixture.CallbackLines(candidate).Length;

        var (code, text) = Scenario.Pgwarden("switchover", scope, "-c", leader.ConfigPath, "--leader", leader.Name, "--candidate", candidate.Name, "--force");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        await Wait.UntilAsync(() => fixture.CallbackLines(candidate).Skip(beforeCandidate).Contains($"on_role_change master {scope}")
                                    && fixture.CallbackLines(leader).Skip(beforeLeader).Contains($"on_role_change replica {scope}"),
            TimeSpan.FromSeconds(30), "on_role_change on both nodes");
        output.WriteLine($"{leader.Name} (old leader): " + string.Join(" | ", fixture.CallbackLines(leader).Skip(beforeLeader)));
        output.WriteLine($"{candidate.Name} (new leader): " + string.Join(" | ", fixture.CallbackLines(candidate).Skip(beforeCandidate)));
        Assert.DoesNotContain(fixture.CallbackLines(candidate).Skip(beforeCandidate), l => l.StartsWith("on_stop", StringComparison.Ordinal));
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));

        // A reloadable change: every node reloads, and on_reload runs on the replicas too (with their role).
        var before = Cluster.Nodes.ToDictionary(n => n.Name, n => fixture.CallbackLines(n).Length);
        var (patched, _) = await AuthedAsync(HttpMethod.Patch, candidate.RestUrl + "/config", """{"postgresql":{"parameters":{"work_mem":"7MB"}}}""");
        Assert.Equal(HttpStatusCode.OK, patched);
        foreach (var node in Cluster.Nodes)
        {
            var role = node == candidate ? "master" : "replica";
            await Wait.UntilAsync(() => fixture.CallbackLines(node).Skip(before[node.Name]).Contains($"on_reload {role} {scope}"), TimeSpan.FromSeconds(15),
                $"on_reload {role} on {node.Name}");
            Assert.Equal("7MB", await ShowAsync(node, "work_mem"));
        }
        (patched, _) = await AuthedAsync(HttpMethod.Patch, candidate.RestUrl + "/config", """{"postgresql":{"parameters":{"work_mem":null}}}""");
        Assert.Equal(HttpStatusCode.OK, patched);

        // And back, so the next test finds the usual leader.
        (code, text) = Scenario.Pgwarden("switchover", scope, "-c", leader.ConfigPath, "--leader", candidate.Name, "--candidate", leader.Name, "--force");
        Assert.True(code == 0, text);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Reload_and_sighup_re_read_the_local_yaml_parameters_tags_and_pg_hba()
    {
        var leader = await HealthyLeaderAsync();
        var replicas = Cluster.Nodes.Where(n => n != leader).ToList();
        var viaCli = replicas[0];
        var viaSignal = replicas[1];
        var originals = new Dictionary<string, string>();
        try
        {
            foreach (var node in new[] { viaCli, viaSignal })
            {
                var yaml = originals[node.Name] = await File.ReadAllTextAsync(node.ConfigPath);
                var edited = yaml.Replace("    shared_buffers: 32MB\n", "    shared_buffers: 32MB\n    log_min_duration_statement: 1234\n", StringComparison.Ordinal)
                    .Replace("  - host all all 127.0.0.1/32 scram-sha-256\n", "  - host all all 127.0.0.1/32 scram-sha-256\n  - host all pgwarden_reload 127.0.0.1/32 reject\n", StringComparison.Ordinal)
                    + "tags:\n  noloadbalance: true\n";
                Assert.NotEqual(yaml, edited);
                await File.WriteAllTextAsync(node.ConfigPath, edited);
            }
            var (code, text) = Scenario.Pgwarden("reload", Cluster.Scope, viaCli.Name, "-c", leader.ConfigPath, "--force");
            output.WriteLine(text);
            Assert.True(code == 0, text);
            var sw = Stopwatch.StartNew();
            viaSignal.Agent!.Signal("HUP");

            foreach (var node in new[] { viaCli, viaSignal })
            {
                await Wait.UntilAsync(async () => await ShowAsync(node, "log_min_duration_statement") == "1234ms", TimeSpan.FromSeconds(15),
                    $"log_min_duration_statement from {node.Name}'s YAML");
                await Wait.UntilAsync(async () => (await AgentCluster.GetAsync(node.RestUrl + "/replica")).Code == HttpStatusCode.ServiceUnavailable,
                    TimeSpan.FromSeconds(15), $"{node.Name}'s new noloadbalance tag to make GET /replica answer 503");
                var patroni = JsonNode.Parse((await AgentCluster.GetAsync(node.RestUrl + "/patroni")).Body)!;
                Assert.True(patroni["tags"]?["noloadbalance"]?.GetValue<bool>(), patroni.ToJsonString());
                await using var conn = node.Connect();
                await conn.OpenAsync();
                var rules = await new NpgsqlCommand("SELECT count(*) FROM pg_hba_file_rules WHERE 'pgwarden_reload' = ANY(user_name) AND auth_method = 'reject'", conn).ExecuteScalarAsync();
                Assert.Equal(1L, rules);
            }
            output.WriteLine($"SIGHUP applied on {viaSignal.Name} within {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal("-1", await ShowAsync(leader, "log_min_duration_statement"));
            Assert.Contains("on_reload replica", string.Join("\n", fixture.CallbackLines(viaSignal)));
        }
        finally
        {
            foreach (var (name, yaml) in originals) await File.WriteAllTextAsync(Cluster.Node(name).ConfigPath, yaml);
            viaSignal.Agent!.Signal("HUP");
            Scenario.Pgwarden("reload", Cluster.Scope, viaCli.Name, "-c", leader.ConfigPath, "--force");
        }
        foreach (var node in new[] { viaCli, viaSignal })
            await Wait.UntilAsync(async () => await ShowAsync(node, "log_min_duration_statement") == "-1", TimeSpan.FromSeconds(15), $"{node.Name} back to its original YAML");
    }

    [Fact]
    public async Task Hung_leader_postmaster_stops_being_writable_and_a_replica_takes_over_without_two_writable_primaries()
    {
        var leader = await HealthyLeaderAsync();
        await using var checker = new SplitBrainChecker(Cluster);
        checker.Start();
        await using var probe = new WriteProbe(Cluster);
        probe.Start();
        await Wait.UntilAsync(() => checker.Rounds > 5 && probe.Acknowledged.Count > 20, TimeSpan.FromSeconds(10), "checker and probe to run");

        var postmaster = leader.PostmasterPid()!.Value;
        var sw = Stopwatch.StartNew();
        OsUser.Run(false, "kill", "-STOP", postmaster.ToString());
        string newLeader;
        try
        {
            await Wait.UntilAsync(async () => await Cluster.LeaderAsync() is { } l && l != leader.Name, TimeSpan.FromSeconds(40),
                $"a replica to take over from the hung postmaster of {leader.Name}");
            newLeader = (await Cluster.LeaderAsync())!;
            output.WriteLine($"SIGSTOP of {leader.Name}'s postmaster -> {newLeader} holds the lock after {sw.Elapsed.TotalSeconds:F1} s " +
                             "(ttl 10, loop_wait 2: unhealthy for max(loop_wait, ttl/2) = 5 s, then stop, then release)");
            await Wait.UntilAsync(() => checker.AcceptedPerNode.GetValueOrDefault(newLeader) > 3, TimeSpan.FromSeconds(20), $"{newLeader} to accept writes");
        }
        finally
        {
            // The agent SIGKILLs a hung postmaster before it releases the lock; CONT is for a failed run only.
            OsUser.Run(false, "kill", "-CONT", postmaster.ToString());
        }
        var tookOver = sw.Elapsed;
        Assert.True(tookOver < TimeSpan.FromSeconds(30), $"took {tookOver.TotalSeconds:F1} s");
        Assert.False(Directory.Exists($"/proc/{postmaster}") && File.ReadAllText($"/proc/{postmaster}/stat").Contains(" T ", StringComparison.Ordinal),
            "the hung postmaster is still there, stopped");
        output.WriteLine($"{leader.Name}'s agent log: " + string.Join(" | ", leader.Agent!.Output.Split('\n')
            .Where(l => l.Contains("hung", StringComparison.OrdinalIgnoreCase) || l.Contains("unhealthy", StringComparison.OrdinalIgnoreCase) || l.Contains("SIGKILL", StringComparison.Ordinal)).Take(4)));

        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(newLeader, await Cluster.LeaderAsync());
        await probe.StopAsync();
        output.WriteLine($"write gap: {probe.LongestGap().TotalSeconds:F1} s; split-brain checker rounds {checker.Rounds}, writable per node: " +
                         string.Join(", ", checker.AcceptedPerNode.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Empty(checker.Violations);
        var missing = await probe.MissingOnAsync(Cluster.Node(newLeader));
        output.WriteLine($"acknowledged inserts missing on {newLeader}: {missing.Count}");
    }
}
