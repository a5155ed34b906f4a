using System.Globalization;
using Npgsql;

namespace PgWarden.Bench;

/// <summary>
/// Every measurement of the issue for one agent, on a fresh cluster: bootstrap, cost at rest, REST throughput,
/// planned switchover, restart-requiring change, DCS growth, unplanned failover at Patroni's defaults and at the
/// fast profile. A step that fails records why and the run goes on with the next.
/// </summary>
public sealed class AgentRun(BenchOptions options, AgentKind agent, TextWriter log)
{
    private readonly Measurements _m = new(agent);
    private BenchCluster _cluster = null!;
    private static readonly TimeSpan Healthy = TimeSpan.FromSeconds(180);

    public async Task<Measurements> RunAsync(CancellationToken ct)
    {
        var started = Clock.Now;
        using var loadCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var load = SampleLoadAsync(loadCts.Token);
        await using (_cluster = new BenchCluster(options, agent))
        {
            try
            {
                await _cluster.StartEtcdAsync(ct);
                for (var i = 1; i <= 3; i++) _cluster.PrepareNode(i);
                Validate();
                if (await StepAsync("bootstrap", BootstrapAsync, ct))
                {
                    _cluster.StartHaproxy();
                    await WriteClient.CreateTableAsync((await _cluster.WaitHealthyAsync(3, Healthy, ct)).ConnectionString(), ct);
                    if (options.Runs("idle")) await StepAsync("idle", IdleAsync, ct);
                    if (options.Runs("rest")) await StepAsync("rest", RestAsync, ct);
                    if (options.Runs("switchover")) await StepAsync("switchover", SwitchoverAsync, ct);
                    if (options.Runs("restart")) await StepAsync("restart", RestartChangeAsync, ct);
                    if (options.Growth && options.Runs("growth")) await StepAsync("growth", GrowthAsync, ct);
                    if (options.Runs("failover"))
                    {
                        if (options.RunsProfile("default")) await StepAsync("failover-default", c => FailoverAsync("default", 30, 10, 10, c), ct);
                        if (options.RunsProfile("fast")) await StepAsync("failover-fast", c => FailoverAsync("fast", 10, 2, 3, c), ct);
                        // PgWarden's documented fast profile (docs/failover.md): below what Patroni's newer releases
                        // accept (ttl >= 20), so it is measured for PgWarden only.
                        if (agent == AgentKind.PgWarden && options.RunsProfile("fastprofile"))
                            await StepAsync("failover-fastprofile", c => FailoverAsync("fastprofile", 4, 1, 1, c), ct);
                    }
                }
            }
            finally
            {
                Say("stopping agents, PostgreSQL, HAProxy and etcd; deleting data directories");
            }
        }
        await loadCts.CancelAsync();
        await load;
        _m.Seconds = Clock.Now - started;
        return _m;
    }

    private async Task<bool> StepAsync(string name, Func<CancellationToken, Task> step, CancellationToken ct)
    {
        Say($"-- {name}");
        try
        {
            await step(ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Say($"   {name} failed: {e.Message}");
            _m.Details[$"{name}_error"] = e.Message;
            return false;
        }
    }

    private void Validate()
    {
        var cfg = _cluster.Nodes[0].ConfigPath;
        var (code, output) = agent == AgentKind.Patroni
            ? PgWarden.Lab.OsUsers.Run(true, "patroni", "--validate-config", cfg)
            : PgWarden.Lab.OsUsers.Run(true, options.PgWardenBin, "validate-config", cfg);
        _m.Details["validate_config"] = new { exit_code = code, output = output.Trim() };
        Say($"   validate-config: exit {code} {output.Trim()}");
    }

    // (1) Seconds from starting three agents on empty data directories until one leader and two streaming replicas.
    private async Task BootstrapAsync(CancellationToken ct)
    {
        var t0 = Clock.Now;
        foreach (var n in _cluster.Nodes) _cluster.StartAgent(n);
        var leader = await _cluster.WaitHealthyAsync(3, Healthy, ct);
        _m.Set("bootstrap_s", _cluster.HealthySince - t0);
        Say($"   {leader.Name} leads, 2 replicas stream after {_cluster.HealthySince - t0:F1} s");
    }

    // (5) RSS and CPU of the idle agents, etcd requests of the idle cluster.
    private async Task IdleAsync(CancellationToken ct)
    {
        // Settle first: the first seconds after start (JIT, connection pools) are not "at rest" for either agent.
        await Task.Delay(TimeSpan.FromSeconds(10), ct);
        var agents = _cluster.Nodes.Take(3).ToList();
        var cpu0 = agents.Select(n => ProcessCost.CpuSeconds(n.AgentPid)).ToList();
        var rpc0 = await _cluster.Etcd.StartedRpcsAsync(ct);
        var t0 = Clock.Now;
        var rss = new List<double>();
        while (Clock.Now - t0 < options.IdleSeconds)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, options.IdleSeconds - (Clock.Now - t0)) + 0.01), ct);
            rss.AddRange(agents.Select(n => ProcessCost.RssMegabytes(n.AgentPid)));
        }
        var seconds = Clock.Now - t0;
        var rpc1 = await _cluster.Etcd.StartedRpcsAsync(ct);
        var cpuPerMin = agents.Select((n, i) => (ProcessCost.CpuSeconds(n.AgentPid) - cpu0[i]) / seconds * 60).ToList();
        var rssNow = agents.Select(n => ProcessCost.RssMegabytes(n.AgentPid)).ToList();
        var rps = RpcRate(rpc0, rpc1, seconds);
        _m.Set("idle_rss_mb", rssNow.Average());
        _m.Set("idle_cpu_s_per_min", cpuPerMin.Average());
        _m.Set("etcd_rps_3", rps.Total);
        _m.Details["idle"] = new { seconds, rss_mb_per_agent = rssNow, rss_mb_max_sampled = rss.Max(), cpu_s_per_min_per_agent = cpuPerMin, etcd_rps_by_method = rps.ByMethod };
        Say($"   RSS {string.Join("/", rssNow.Select(F1))} MB, CPU {string.Join("/", cpuPerMin.Select(F2))} s/min, etcd {rps.Total:F2} req/s over {seconds:F0} s");
    }

    private static (double Total, Dictionary<string, double> ByMethod) RpcRate(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after, double seconds)
    {
        var by = after.ToDictionary(kv => kv.Key, kv => Math.Round((kv.Value - before.GetValueOrDefault(kv.Key)) / seconds, 3));
        return (by.Values.Sum(), by.Where(kv => kv.Value > 0).ToDictionary());
    }

    // (4) GET /primary on the leader and GET /replica on a replica under wrk -t2 -c16.
    private async Task RestAsync(CancellationToken ct)
    {
        var leader = await _cluster.WaitHealthyAsync(3, Healthy, ct);
        var replica = _cluster.Nodes.Take(3).First(n => n != leader);
        foreach (var (id, node, path) in new[] { ("primary", leader, "/primary"), ("replica", replica, "/replica") })
        {
            var r = await Task.Run(() => Wrk.Run($"http://{node.Address}:8008{path}", options.WrkSeconds), ct);
            var note = r.Non2xx > 0 ? $"{r.Non2xx} non-2xx answers" : null;
            _m.Set($"rest_{id}_rps", r.RequestsPerSecond, note);
            _m.Set($"rest_{id}_p99_ms", r.P99Ms, note);
            _m.Details[$"wrk_{id}"] = r.Output;
            Say($"   GET {path} on {node.Name}: {r.RequestsPerSecond:F0} req/s, p99 {r.P99Ms:F2} ms{(note is null ? "" : ", " + note)}");
        }
    }

    // (2) Planned switchover with Debian's patronictl, writes through HAProxy and a multi-host string.
    private async Task SwitchoverAsync(CancellationToken ct)
    {
        var runs = new List<object>();
        var gapsH = new List<double>();
        var gapsM = new List<double>();
        var lost = 0;
        for (var k = 1; k <= options.SwitchoverRuns; k++)
        {
            var leader = await _cluster.WaitHealthyAsync(3, Healthy, ct);
            var three = _cluster.Nodes.Take(3).ToList();
            var candidate = three[(three.IndexOf(leader) + 1) % 3];
            await using var writers = await Writers.StartAsync(_cluster, $"{agent}-switchover-{k}", ct);
            var tCmd = Clock.Now;
            var (code, output) = await Task.Run(() => _cluster.Patronictl("switchover", "--candidate", candidate.Name, "--force"), ct);
            if (code != 0 || output.Contains("failed", StringComparison.OrdinalIgnoreCase) || output.Contains("Error", StringComparison.Ordinal))
            {
                var why = $"`patronictl switchover` against {agent}: {LastLines(output)}" +
                          (agent == AgentKind.PgWarden ? " (PgWarden's POST /switchover arrives with issue 3)" : "");
                _m.Missing("switchover_gap_haproxy_s", why);
                _m.Missing("switchover_gap_multihost_s", why);
                _m.Missing("switchover_lost", why);
                Say("   " + why);
                return;
            }
            await Poll.UntilAsync(async () => await _cluster.LeaderAsync(ct) == candidate.Name && writers.BothAckedBy(candidate.Address, tCmd),
                TimeSpan.FromSeconds(90), $"{candidate.Name} to lead and take writes on both paths", ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var tEnd = Clock.Now;
            await writers.StopAsync();
            var gh = writers.Haproxy.LongestGap(tCmd - 1, tEnd);
            var gm = writers.MultiHost.LongestGap(tCmd - 1, tEnd);
            var newLeader = await _cluster.WaitHealthyAsync(3, Healthy, ct);
            var l = await writers.Haproxy.LostAsync(newLeader.ConnectionString(), ct) + await writers.MultiHost.LostAsync(newLeader.ConnectionString(), ct);
            gapsH.Add(gh);
            gapsM.Add(gm);
            lost += l;
            runs.Add(new { from = leader.Name, to = candidate.Name, gap_haproxy_s = gh, gap_multihost_s = gm, lost = l });
            Say($"   #{k} {leader.Name} -> {candidate.Name}: gap HAProxy {gh:F2} s, multi-host {gm:F2} s, lost {l}");
        }
        _m.Set("switchover_gap_haproxy_s", Measurements.Median(gapsH));
        _m.Set("switchover_gap_multihost_s", Measurements.Median(gapsM));
        _m.Set("switchover_lost", lost);
        _m.Details["switchover_runs"] = runs;
    }

    // (6) shared_buffers through edit-config, restart of the pending members; edit until all run with it.
    private async Task RestartChangeAsync(CancellationToken ct)
    {
        const string newValue = "48MB";
        await _cluster.WaitHealthyAsync(3, Healthy, ct);
        var three = _cluster.Nodes.Take(3).ToList();
        var tEdit = Clock.Now;
        var (code, output) = await Task.Run(() => _cluster.Patronictl("edit-config", "--force", "-p", $"shared_buffers={newValue}"), ct);
        if (code != 0) throw new InvalidOperationException($"patronictl edit-config exited {code}: {LastLines(output)}");
        try
        {
            await Poll.UntilAsync(async () =>
            {
                var members = await _cluster.Etcd.GetPrefixAsync($"/service/{BenchCluster.Scope}/members/", ct);
                return three.All(n => members.TryGetValue($"/service/{BenchCluster.Scope}/members/{n.Name}", out var v) && PendingRestart(v));
            }, TimeSpan.FromSeconds(90), "every member to report pending_restart", ct, 200);
        }
        catch (TimeoutException e)
        {
            _m.Missing("restart_change_s", e.Message + (agent == AgentKind.PgWarden ? " (pending restart and POST /restart arrive with issue 4)" : ""));
            Say("   " + e.Message);
            return;
        }
        var tPending = Clock.Now;
        (code, output) = await Task.Run(() => _cluster.Patronictl("restart", BenchCluster.Scope, "--pending", "--force"), ct);
        if (code != 0 || output.Contains("Failed", StringComparison.Ordinal))
        {
            var why = $"`patronictl restart --pending` against {agent}: {LastLines(output)}" +
                      (agent == AgentKind.PgWarden ? " (PgWarden's POST /restart arrives with issue 4)" : "");
            _m.Missing("restart_change_s", why);
            Say("   " + why);
            return;
        }
        await Poll.UntilAsync(async () =>
        {
            foreach (var n in three)
            {
                try
                {
                    await using var conn = new NpgsqlConnection(n.ConnectionString(2));
                    await conn.OpenAsync(ct);
                    await using var cmd = new NpgsqlCommand("show shared_buffers", conn);
                    if ((string?)await cmd.ExecuteScalarAsync(ct) != newValue) return false;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(180), $"every node to run with shared_buffers={newValue}", ct, 200);
        var total = Clock.Now - tEdit;
        _m.Set("restart_change_s", total);
        _m.Details["restart_change"] = new { edit_to_pending_s = tPending - tEdit, pending_to_all_running_s = Clock.Now - tPending };
        Say($"   edit -> all pending {tPending - tEdit:F1} s, -> all running with {newValue} {total:F1} s");
        await _cluster.WaitHealthyAsync(3, Healthy, ct);
    }

    // (5) DCS load from 3 to 5 to 9 members: real extra nodes (agent + PostgreSQL each), then stopped again.
    private async Task GrowthAsync(CancellationToken ct)
    {
        var extra = new List<BenchNode>();
        try
        {
            foreach (var count in new[] { 5, 9 })
            {
                for (var i = _cluster.Nodes.Count + 1; i <= count; i++)
                {
                    var n = _cluster.PrepareNode(i);
                    _cluster.StartAgent(n);
                    extra.Add(n);
                }
                await _cluster.WaitHealthyAsync(count, TimeSpan.FromSeconds(300), ct);
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
                var rpc0 = await _cluster.Etcd.StartedRpcsAsync(ct);
                var t0 = Clock.Now;
                await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds), ct);
                var rps = RpcRate(rpc0, await _cluster.Etcd.StartedRpcsAsync(ct), Clock.Now - t0);
                _m.Set($"etcd_rps_{count}", rps.Total);
                _m.Details[$"etcd_rps_{count}_by_method"] = rps.ByMethod;
                Say($"   {count} members: etcd {rps.Total:F2} req/s");
            }
            if (_m.Figures.TryGetValue("etcd_rps_3", out var r3) && r3.Value is > 0 && _m.Figures["etcd_rps_9"].Value is { } r9)
                _m.Set("etcd_growth_9_over_3", r9 / r3.Value.Value);
        }
        finally
        {
            await _cluster.StopAsync(extra, ct);
        }
    }

    // (3) kill -9 of the leader's agent and postmaster; lock expiry watched in etcd; writes on both paths.
    private async Task FailoverAsync(string profile, int ttl, int loopWait, int retryTimeout, CancellationToken ct)
    {
        await _cluster.WaitHealthyAsync(3, Healthy, ct);
        var (code, output) = await Task.Run(() => _cluster.Patronictl("edit-config", "--force",
            "-s", $"ttl={ttl}", "-s", $"loop_wait={loopWait}", "-s", $"retry_timeout={retryTimeout}"), ct);
        if (code != 0) throw new InvalidOperationException($"patronictl edit-config exited {code}: {LastLines(output)}");
        // The agents take the new timing on their next loop; the leader's lease shows when the lock uses it.
        long granted = 0;
        try
        {
            await Poll.UntilAsync(async () =>
            {
                var (_, lease) = await _cluster.Etcd.GetAsync($"/service/{BenchCluster.Scope}/leader", ct);
                granted = lease == 0 ? 0 : await _cluster.Etcd.GrantedTtlAsync(lease, ct);
                return granted == ttl;
            }, TimeSpan.FromSeconds(60), $"the leader lock's lease to have TTL {ttl}", ct, 250);
        }
        catch (TimeoutException)
        {
            Say($"   the leader's lease has TTL {granted}, not {ttl}; measuring anyway");
        }
        await Task.Delay(TimeSpan.FromSeconds(2 * loopWait + 1), ct);

        var runs = new List<object>();
        var series = new Dictionary<string, List<double>>();
        void Add(string k, double v) => (series.TryGetValue(k, out var l) ? l : series[k] = []).Add(v);
        var lostTotal = 0;
        var notRejoined = 0;
        for (var k = 1; k <= options.FailoverRuns; k++)
        {
            var leader = await _cluster.WaitHealthyAsync(3, Healthy, ct);
            await using var writers = await Writers.StartAsync(_cluster, $"{agent}-failover-{profile}-{k}", ct);
            using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            double? tExpired = null, tNew = null;
            string? newLeader = null;
            var watcher = Task.Run(async () =>
            {
                while (!watchCts.IsCancellationRequested)
                {
                    try
                    {
                        var v = await _cluster.LeaderAsync(watchCts.Token);
                        var now = Clock.Now;
                        if (v != leader.Name) tExpired ??= now;
                        if (v is not null && v != leader.Name) { tNew ??= now; newLeader ??= v; }
                        if (tNew is not null) return;
                        await Task.Delay(20, watchCts.Token);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                }
            }, ct);
            // The agent's share of the reaction, without the clients' own re-detection (Npgsql's host recheck, HAProxy's
            // check interval): fresh direct connections to every other node every 20 ms until one is a primary.
            double? tWritable = null;
            var others = _cluster.Nodes.Take(3).Where(n => n != leader).ToList();
            var direct = Task.Run(async () =>
            {
                while (!watchCts.IsCancellationRequested && tWritable is null)
                {
                    foreach (var n in others)
                    {
                        try
                        {
                            await using var conn = new NpgsqlConnection(n.ConnectionString(1));
                            await conn.OpenAsync(watchCts.Token);
                            await using var cmd = new NpgsqlCommand("select not pg_is_in_recovery()", conn);
                            if (await cmd.ExecuteScalarAsync(watchCts.Token) is true && tExpired is not null) { tWritable ??= Clock.Now; return; }
                        }
                        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException) { }
                    }
                    try { await Task.Delay(20, watchCts.Token); } catch (OperationCanceledException) { return; }
                }
            }, ct);
            var tKill = Clock.Now;
            _cluster.Kill(leader);
            Say($"   #{k} killed {leader.Name} (agent and postmaster)");
            await Poll.UntilAsync(() => Task.FromResult(tNew is not null && writers.BothAckedByOtherThan(leader.Address, tKill)),
                TimeSpan.FromSeconds(ttl + 90), "a new leader taking writes on both paths", ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            await writers.StopAsync();
            await watchCts.CancelAsync();
            try { await watcher; } catch (OperationCanceledException) { }
            try { await direct; } catch (OperationCanceledException) { }

            var untilExpiry = tExpired!.Value - tKill;
            Add("until_expiry", untilExpiry);
            if (tWritable is { } w0) Add("writable", w0 - tExpired.Value);
            var perPath = new Dictionary<string, object>();
            foreach (var w in new[] { writers.Haproxy, writers.MultiHost })
            {
                var acks = w.Acks;
                var last = acks.Where(a => a.At <= tKill).Select(a => a.At).DefaultIfEmpty(tKill).Max();
                var first = acks.First(a => a.At > tKill && a.Server != leader.Address).At;
                Add($"{w.Path}_gap", first - last);
                Add($"{w.Path}_reaction", first - tExpired.Value);
                perPath[w.Path] = new { gap_s = first - last, reaction_s = first - tExpired.Value };
            }
            // Record as we go: a later step of this run (the rejoin) may fail, the measurement stands.
            foreach (var (key, values) in series) _m.Set($"failover_{profile}_{key}_s", Measurements.Median(values));
            Say($"   lock gone after {untilExpiry:F2} s, {newLeader} took it after {tNew!.Value - tKill:F2} s; " +
                string.Join(", ", series.Where(s => s.Key.EndsWith("_reaction", StringComparison.Ordinal) || s.Key == "writable").Select(s => $"{s.Key} {s.Value[^1]:F2} s")));

            _cluster.StartAgent(leader);
            var rejoined = true;
            BenchNode healthy;
            try
            {
                healthy = await _cluster.WaitHealthyAsync(3, TimeSpan.FromSeconds(90), ct);
            }
            catch (TimeoutException)
            {
                // The killed leader did not come back as a streaming replica (no rewind): count the writes on the
                // new leader, then wipe and re-clone that node (what `patronictl reinit` does) for the next run.
                rejoined = false;
                healthy = await _cluster.WaitHealthyAsync(2, Healthy, ct);
                _m.Details[$"failover_{profile}_rejoin_{k}"] = $"{leader.Name} did not rejoin as a streaming replica within 90 s; wiped and re-cloned";
                Say($"   {leader.Name} did not rejoin as a streaming replica within 90 s; wiping and re-cloning it");
            }
            var lost = await writers.Haproxy.LostAsync(healthy.ConnectionString(), ct) + await writers.MultiHost.LostAsync(healthy.ConnectionString(), ct);
            lostTotal += lost;
            if (!rejoined)
            {
                await _cluster.StopAsync([leader], ct);
                Directory.Delete(leader.DataDir, recursive: true);
                _cluster.StartAgent(leader);
                await _cluster.WaitHealthyAsync(3, Healthy, ct);
            }
            runs.Add(new { killed = leader.Name, new_leader = newLeader, until_expiry_s = untilExpiry, new_lock_after_kill_s = tNew.Value - tKill, paths = perPath, lost, old_leader_rejoined = rejoined });
            if (!rejoined) notRejoined++;
        }
        _m.Set($"failover_{profile}_lost", lostTotal, notRejoined == 0 ? null
            : $"the killed leader did not rejoin as a streaming replica in {notRejoined} of {options.FailoverRuns} runs (no pg_rewind); it was wiped and re-cloned");
        _m.Details[$"failover_{profile}_runs"] = runs;
        _m.Details[$"failover_{profile}_lease_ttl"] = granted;
    }

    private async Task SampleLoadAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                _m.LoadSamples.Add(double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture));
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
        }
        catch (OperationCanceledException) { }
    }

    private static bool PendingRestart(string memberJson)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(memberJson);
            return doc.RootElement.TryGetProperty("pending_restart", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.True;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static string LastLines(string output) =>
        string.Join(" | ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith('+') && !l.StartsWith('|')).TakeLast(3));

    private static string F1(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
    private static string F2(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    private void Say(string line) => log.WriteLine($"[{agent} {Clock.Now,7:F1}s] {line}");
}
