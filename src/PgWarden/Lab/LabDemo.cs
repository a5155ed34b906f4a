using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Dcs;

namespace PgWarden.Lab;

/// <summary>
/// `pgwarden lab demo`: the scenario every HA guide walks through, run against the lab that is up, each step
/// printing what it does, the command or SQL, its output and a verdict. Re-runnable: it recreates its database
/// and picks configuration values that differ from the current ones.
/// </summary>
public sealed class LabDemo(TextWriter output)
{
    private static readonly TimeSpan RoleChangeDeadline = TimeSpan.FromSeconds(90);
    private LabState state = null!;
    private string password = "";

    private sealed record StepResult(bool Pass, string Summary);

    public async Task<int> RunAsync(string dir, CancellationToken ct)
    {
        if (LabState.Load(dir) is not { } loaded || !loaded.AnyAlive)
        {
            output.WriteLine($"Error: no running lab in {dir}; `pgwarden lab up` starts one");
            return 1;
        }
        state = loaded;
        password = new LabClusterSpec(state.Scope, state.DcsEndpoints).SuperuserPassword;
        var steps = new (string Title, Func<CancellationToken, Task<StepResult>> Run)[]
        {
            ("the cluster is up", ClusterUpAsync),
            ("writes through HAProxy's read-write port 5000", WritesAsync),
            ("replication: every replica streams and has the rows", ReplicationAsync),
            ("switchover to a named replica under a steady write load", SwitchoverAsync),
            ("failover: the primary node dies", FailoverAsync),
            ("configuration: reload and restart-only parameters", ConfigurationAsync),
            ("reads through HAProxy's read-only port 5001 spread over the replicas", ReadScalingAsync),
        };
        var results = new List<(string, StepResult)>();
        for (var i = 0; i < steps.Length; i++)
        {
            output.WriteLine();
            output.WriteLine($"=== Step {i + 1}/{steps.Length}: {steps[i].Title}");
            StepResult result;
            var sw = Stopwatch.StartNew();
            try
            {
                result = await steps[i].Run(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                result = new StepResult(false, $"{e.GetType().Name}: {e.Message}");
            }
            output.WriteLine($"--- verdict: {(result.Pass ? "PASS" : "FAIL")} ({sw.Elapsed.TotalSeconds:F1} s): {result.Summary}");
            results.Add((steps[i].Title, result));
        }
        output.WriteLine();
        output.WriteLine("=== Summary");
        for (var i = 0; i < results.Count; i++)
            output.WriteLine($"{i + 1}. {(results[i].Item2.Pass ? "PASS" : "FAIL")}  {results[i].Item1}: {results[i].Item2.Summary}");
        var failed = results.Count(r => !r.Item2.Pass);
        output.WriteLine(failed == 0 ? "all steps passed" : $"{failed} of {results.Count} steps failed");
        return failed == 0 ? 0 : 1;
    }

    // ---- steps -------------------------------------------------------------------------------------------------

    private async Task<StepResult> ClusterUpAsync(CancellationToken ct)
    {
        Say("Every node runs, one holds the leader lock, the others stream from it.");
        // Right after a previous demo (whose last restart was the leader's) a replica may still be reconnecting: its
        // WAL receiver retries every 5 s (wal_retrieve_retry_interval). Wait for that, not for anything longer.
        static bool Ready(ClusterView v) => v.Leader is not null
            && v.Members.Where(m => m.Name != v.Leader.Name).All(m => m.Data.ReplicationState == "streaming");
        if (!Ready(await ClusterAsync(ct)))
        {
            Say("Waiting (at most 15 s) for every replica to stream ...");
            await WaitForAsync(async () => Ready(await ClusterAsync(ct)), TimeSpan.FromSeconds(15), ct);
        }
        await RunCommandAsync(["list", "-c", state.Nodes[0].ConfigPath], ct);
        var view = await ClusterAsync(ct);
        var replicas = view.Members.Where(m => m.Name != view.Leader?.Name).ToList();
        var streaming = replicas.Count(m => m.Data.ReplicationState == "streaming");
        var pass = view.Leader is not null && view.Members.Count == state.Nodes.Count && streaming == replicas.Count;
        return new StepResult(pass, $"leader {view.Leader?.Name ?? "none"}, {view.Members.Count}/{state.Nodes.Count} members, {streaming}/{replicas.Count} replicas streaming");
    }

    private async Task<StepResult> WritesAsync(CancellationToken ct)
    {
        Say($"Connect to HAProxy {state.FrontAddress}:5000 (it routes to the node whose /primary answers 200), create database test, a table and rows.");
        await using (var conn = await OpenAsync(Rw("postgres"), ct))
        {
            await ShowSqlAsync(conn, "DROP DATABASE IF EXISTS test WITH (FORCE)", ct);
            await ShowSqlAsync(conn, "CREATE DATABASE test", ct);
        }
        await using var db = await OpenAsync(Rw("test"), ct);
        await ShowSqlAsync(db, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)", ct);
        await ShowSqlAsync(db, "CREATE TABLE writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())", ct);
        await ShowSqlAsync(db, "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')", ct);
        var rows = await ShowSqlAsync(db, "SELECT id, name, inet_server_addr() AS served_by FROM items ORDER BY id", ct);
        var leader = (await ClusterAsync(ct)).Leader?.Name;
        var servedBy = NodeByAddress(rows.FirstOrDefault()?[2]);
        return new StepResult(rows.Count == 3 && servedBy == leader, $"3 rows written and read back through port 5000, served by {servedBy} (leader {leader})");
    }

    private async Task<StepResult> ReplicationAsync(CancellationToken ct)
    {
        var view = await ClusterAsync(ct);
        var leader = Node(view.Leader?.Name ?? throw new InvalidOperationException("no leader"));
        Say($"On the leader {leader.Name}: pg_stat_replication, waiting until every replica has replayed everything (lag 0).");
        const string sql = "SELECT application_name, state, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS lag_bytes FROM pg_stat_replication ORDER BY 1";
        List<string?[]> rows = [];
        await using (var conn = await OpenAsync(Direct(leader, "postgres"), ct))
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(20))
            {
                rows = await QueryAsync(conn, sql, ct);
                if (rows.Count == state.Nodes.Count - 1 && rows.All(r => r[1] == "streaming" && r[3] == "0")) break;
                await Task.Delay(200, ct);
            }
            Print(sql, rows, ["application_name", "state", "sync_state", "lag_bytes"]);
        }
        var pass = rows.Count == state.Nodes.Count - 1 && rows.All(r => r[1] == "streaming" && r[3] == "0");
        var counts = new List<string>();
        foreach (var replica in state.Nodes.Where(n => n.Name != leader.Name))
        {
            Say($"On replica {replica.Name} ({replica.Address}:5432, directly):");
            await using var conn = await OpenAsync(Direct(replica, "test"), ct);
            var r = await ShowSqlAsync(conn, "SELECT count(*) AS rows, pg_is_in_recovery() AS in_recovery FROM items", ct);
            counts.Add($"{replica.Name} {r[0][0]} rows");
            pass &= r[0][0] == "3" && r[0][1] == "True";
        }
        return new StepResult(pass, $"{rows.Count} replicas streaming with lag {string.Join("/", rows.Select(r => r[3]))} bytes; {string.Join(", ", counts)}");
    }

    private async Task<StepResult> SwitchoverAsync(CancellationToken ct)
    {
        var view = await ClusterAsync(ct);
        var old = view.Leader?.Name ?? throw new InvalidOperationException("no leader");
        var candidate = state.Nodes.Select(n => n.Name).First(n => n != old);
        Say($"A writer inserts a row through port 5000 every 20 ms and a reader reads through 5001; switch the leader from {old} to {candidate}.");
        await using var load = LoadGenerator.Start(Rw("test"), Ro("test"));
        await Task.Delay(1000, ct);
        var (code, _, missing) = await RunCommandAsync(["switchover", state.Scope, "-c", state.Nodes[0].ConfigPath, "--candidate", candidate, "--force"], ct);
        if (missing) return NotAvailable("switchover");
        if (code != 0) return new StepResult(false, $"pgwarden switchover exited {code}");
        var changed = await WaitForAsync(async () => (await ClusterAsync(ct)).Leader?.Name == candidate, RoleChangeDeadline, ct);
        var mark = load.Elapsed;
        var resumed = await WaitForAsync(() => Task.FromResult(load.LastWriteAt > mark), TimeSpan.FromSeconds(30), ct);
        await Task.Delay(1000, ct);
        var report = await load.StopAsync();
        output.WriteLine($"    {report}");
        var rejoined = await WaitForStreamingAsync(old, ct);
        output.WriteLine($"    {old} is {(rejoined ? "streaming from the new leader" : "NOT streaming")}");
        await RunCommandAsync(["list", "-c", state.Nodes[0].ConfigPath], ct);
        return new StepResult(changed && resumed && rejoined,
            $"leader {old} -> {(changed ? candidate : "unchanged")}; writes {(resumed ? "resumed" : "did not resume")}, longest write gap {report.WriteGapMs} ms ({report.FailedWrites} failed), longest read gap {report.ReadGapMs} ms; {old} {(rejoined ? "streams" : "does not stream")}");
    }

    private async Task<StepResult> FailoverAsync(CancellationToken ct)
    {
        var view = await ClusterAsync(ct);
        var old = view.Leader?.Name ?? throw new InvalidOperationException("no leader");
        Say($"A writer inserts through port 5000 every 20 ms; kill -9 the primary node {old} (agent and postmaster), as if the machine died.");
        await using var load = LoadGenerator.Start(Rw("test"), null);
        await Task.Delay(1000, ct);
        await RunCommandAsync(["lab", "kill", old, "--dir", state.Dir], ct);
        var mark = load.Elapsed;
        string? promoted = null;
        var changed = await WaitForAsync(async () =>
        {
            var v = await ClusterAsync(ct);
            promoted = v.Leader?.Name;
            return promoted is not null && promoted != old;
        }, RoleChangeDeadline, ct);
        var resumed = await WaitForAsync(() => Task.FromResult(load.LastWriteAt > mark), TimeSpan.FromSeconds(60), ct);
        await Task.Delay(1000, ct);
        var report = await load.StopAsync();
        output.WriteLine($"    {report}");
        Say($"Start {old} again: it must come back as a replica of {promoted}.");
        await RunCommandAsync(["lab", "start", old, "--dir", state.Dir], ct);
        var rejoined = await WaitForStreamingAsync(old, ct);
        if (!rejoined) TailLog(Node(old));
        await RunCommandAsync(["list", "-c", state.Nodes[0].ConfigPath], ct);
        return new StepResult(changed && resumed && rejoined,
            $"{(changed ? $"{promoted} promoted" : "no replica promoted")}; writes {(resumed ? "resumed" : "did not resume")}, write gap {report.WriteGapMs} ms ({report.FailedWrites} failed); {old} {(rejoined ? "rejoined as a streaming replica" : "did not rejoin")}");
    }

    private async Task<StepResult> ConfigurationAsync(CancellationToken ct)
    {
        var leader = Node((await ClusterAsync(ct)).Leader?.Name ?? throw new InvalidOperationException("no leader"));
        var current = await SettingsAsync(leader, ct);
        var workMem = current["work_mem"] == "8MB" ? "16MB" : "8MB";
        var sharedBuffers = current["shared_buffers"] == "64MB" ? "48MB" : "64MB";
        var maxConnections = current["max_connections"] == "150" ? "120" : "150";
        const string preload = "pg_stat_statements";
        var config = state.Nodes[0].ConfigPath;

        Say($"work_mem takes a reload: set it to {workMem} in the cluster-wide configuration.");
        var (code, _, missing) = await RunCommandAsync(["edit-config", state.Scope, "-c", config, "-p", $"work_mem={workMem}", "--force"], ct);
        if (missing) return NotAvailable("edit-config");
        if (code != 0) return new StepResult(false, $"pgwarden edit-config exited {code}");
        var reloaded = await WaitForAsync(async () => await AllNodesAsync(async n => (await SettingsAsync(n, ct))["work_mem"] == workMem), TimeSpan.FromSeconds(60), ct);
        await ShowSettingsAsync(ct);
        if (!reloaded) return new StepResult(false, $"work_mem did not become {workMem} on every node by reload");

        Say($"shared_buffers={sharedBuffers}, max_connections={maxConnections}, shared_preload_libraries={preload} need a restart: the nodes show 'pending restart'.");
        (code, _, _) = await RunCommandAsync(["edit-config", state.Scope, "-c", config, "-p", $"shared_buffers={sharedBuffers}",
            "-p", $"max_connections={maxConnections}", "-p", $"shared_preload_libraries={preload}", "--force"], ct);
        if (code != 0) return new StepResult(false, $"pgwarden edit-config exited {code}");
        var pending = await WaitForAsync(async () => (await ClusterAsync(ct)).Members.Count(m => m.Data.PendingRestart) == state.Nodes.Count, TimeSpan.FromSeconds(60), ct);
        await RunCommandAsync(["list", "-c", config, "-e"], ct);
        if (!pending) return new StepResult(false, "not every node shows pending restart");

        Say("Restart the nodes that need it, then check the values on every node.");
        (code, _, missing) = await RunCommandAsync(["restart", state.Scope, "-c", config, "--pending", "--force"], ct);
        if (missing) return NotAvailable("restart");
        if (code != 0) return new StepResult(false, $"pgwarden restart exited {code}");
        var applied = await WaitForAsync(async () => await AllNodesAsync(async n =>
        {
            var s = await SettingsAsync(n, ct);
            return s["shared_buffers"] == sharedBuffers && s["max_connections"] == maxConnections && s["shared_preload_libraries"] == preload;
        }) && (await ClusterAsync(ct)).Members.All(m => !m.Data.PendingRestart), TimeSpan.FromSeconds(180), ct);
        await ShowSettingsAsync(ct);
        await RunCommandAsync(["list", "-c", config, "-e"], ct);
        var statements = false;
        if (applied)
        {
            await using var conn = await OpenAsync(Rw("test"), ct);
            await ShowSqlAsync(conn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", ct);
            var r = await ShowSqlAsync(conn, "SELECT count(*) > 0 AS has_statements FROM pg_stat_statements", ct);
            statements = r[0][0] == "True";
        }
        return new StepResult(applied && statements,
            $"work_mem={workMem} by reload; shared_buffers={sharedBuffers}, max_connections={maxConnections}, shared_preload_libraries={preload} {(applied ? "after restart on every node" : "NOT applied everywhere")}{(statements ? ", pg_stat_statements collects" : "")}");
    }

    private async Task<StepResult> ReadScalingAsync(CancellationToken ct)
    {
        var view = await ClusterAsync(ct);
        var replicas = view.Members.Where(m => m.Name != view.Leader?.Name).Select(m => m.Name).ToHashSet();
        const int reads = 30;
        Say($"Open {reads} connections to {state.FrontAddress}:5001 and ask each which server answered (inet_server_addr()).");
        var served = new Dictionary<string, int>();
        var failed = 0;
        // HAProxy needs a check or two to mark restarted replicas up again.
        await WaitForAsync(async () =>
        {
            await using var c = await OpenAsync(Ro("postgres"), ct);
            return true;
        }, TimeSpan.FromSeconds(30), ct);
        for (var i = 0; i < reads; i++)
        {
            try
            {
                await using var conn = await OpenAsync(Ro("postgres"), ct);
                var r = await QueryAsync(conn, "SELECT inet_server_addr()::text", ct);
                var name = NodeByAddress(r[0][0]) ?? r[0][0] ?? "?";
                served[name] = served.GetValueOrDefault(name) + 1;
            }
            catch (NpgsqlException) { failed++; }
        }
        var spread = string.Join(", ", served.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"));
        output.WriteLine($"    reads per node: {spread}{(failed > 0 ? $", {failed} failed" : "")}");
        var pass = failed == 0 && replicas.All(served.ContainsKey) && served.Keys.All(replicas.Contains);
        return new StepResult(pass, $"{reads} reads: {spread} (replicas {string.Join(", ", replicas.Order(StringComparer.Ordinal))}; leader {view.Leader?.Name} got {served.GetValueOrDefault(view.Leader?.Name ?? "")})");
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private StepResult NotAvailable(string command) =>
        new(false, $"not available yet: this pgwarden has no `{command}` command");

    private async Task<bool> WaitForStreamingAsync(string name, CancellationToken ct) =>
        await WaitForAsync(async () =>
        {
            var v = await ClusterAsync(ct);
            return v.Leader?.Name != name && v.FindMember(name)?.Data.ReplicationState == "streaming";
        }, RoleChangeDeadline, ct);

    private async Task<bool> AllNodesAsync(Func<LabNode, Task<bool>> check)
    {
        foreach (var n in state.Nodes)
            if (!await check(n)) return false;
        return true;
    }

    private static readonly string[] Watched = ["work_mem", "shared_buffers", "max_connections", "shared_preload_libraries"];

    private async Task<Dictionary<string, string>> SettingsAsync(LabNode node, CancellationToken ct)
    {
        await using var conn = await OpenAsync(Direct(node, "postgres"), ct);
        var rows = await QueryAsync(conn, $"SELECT name, current_setting(name) FROM pg_settings WHERE name IN ({string.Join(",", Watched.Select(w => $"'{w}'"))})", ct);
        return rows.ToDictionary(r => r[0]!, r => r[1] ?? "");
    }

    private async Task ShowSettingsAsync(CancellationToken ct)
    {
        var rows = new List<string?[]>();
        foreach (var n in state.Nodes)
        {
            try
            {
                var s = await SettingsAsync(n, ct);
                rows.Add([n.Name, .. Watched.Select(w => s.GetValueOrDefault(w))]);
            }
            catch (NpgsqlException e) { rows.Add([n.Name, e.Message]); }
        }
        Print("SHOW work_mem, shared_buffers, max_connections, shared_preload_libraries  -- on each node", rows, ["node", .. Watched]);
    }

    private async Task<ClusterView> ClusterAsync(CancellationToken ct)
    {
        using var loggers = AgentLogging.Create(LogLevel.Critical);
        await using var dcs = LabRunner.OpenDcs(state, loggers);
        return await dcs.GetClusterAsync(ct);
    }

    private LabNode Node(string name) => state.Node(name) ?? throw new InvalidOperationException($"no node {name} in the lab");

    private string? NodeByAddress(string? address) => state.Nodes.FirstOrDefault(n => n.Address == address?.Split('/')[0])?.Name;

    private string Rw(string db) => ConnString(state.FrontAddress, 5000, db);
    private string Ro(string db) => ConnString(state.FrontAddress, 5001, db);
    private string Direct(LabNode node, string db) => ConnString(node.Address, node.PgPort, db);

    private string ConnString(string host, int port, string db) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Database = db, Username = "postgres", Password = password,
            Pooling = false, Timeout = 3, CommandTimeout = 5, ApplicationName = "pgwarden-lab-demo",
        }.ConnectionString;

    private static async Task<NpgsqlConnection> OpenAsync(string connString, CancellationToken ct)
    {
        var conn = new NpgsqlConnection(connString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static async Task<List<string?[]>> QueryAsync(NpgsqlConnection conn, string sql, CancellationToken ct) =>
        (await ExecuteAsync(conn, sql, ct)).Rows;

    private static async Task<(List<string> Columns, List<string?[]> Rows, int Affected)> ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync(ct))
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
            rows.Add(row);
        }
        await reader.CloseAsync();
        return (columns, rows, reader.RecordsAffected);
    }

    private async Task<List<string?[]>> ShowSqlAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        var (columns, rows, affected) = await ExecuteAsync(conn, sql, ct);
        if (columns.Count > 0) Print(sql, rows, columns);
        else output.WriteLine($"  sql> {sql}\n    OK{(affected >= 0 ? $" ({affected} rows)" : "")}");
        return rows;
    }

    private void Print(string sql, List<string?[]> rows, IReadOnlyList<string> columns)
    {
        output.WriteLine($"  sql> {sql}");
        var widths = columns.Select((c, i) => Math.Max(c.Length, rows.Select(r => (i < r.Length ? r[i] : "")?.Length ?? 0).DefaultIfEmpty(0).Max())).ToList();
        output.WriteLine("    " + string.Join(" | ", columns.Select((c, i) => c.PadRight(widths[i]))));
        output.WriteLine("    " + string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var r in rows)
            output.WriteLine("    " + string.Join(" | ", columns.Select((_, i) => ((i < r.Length ? r[i] : "") ?? "").PadRight(widths[i]))));
        output.WriteLine($"    ({rows.Count} rows)");
    }

    private void Say(string what) => output.WriteLine($"  {what}");

    private void TailLog(LabNode node)
    {
        if (!File.Exists(node.LogPath)) return;
        output.WriteLine($"    last lines of {node.LogPath}:");
        foreach (var line in File.ReadLines(node.LogPath).TakeLast(15)) output.WriteLine("      " + line);
    }

    /// <summary>
    /// Runs this same pgwarden executable with ARGS, printing the command line and its output. Missing is true when
    /// this build has no such command (a step that needs a later feature reports "not available yet").
    /// </summary>
    private async Task<(int Code, string Output, bool Missing)> RunCommandAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        output.WriteLine($"  $ pgwarden {string.Join(' ', args)}");
        var self = Environment.ProcessPath ?? "pgwarden";
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgwarden.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {self}");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try { await p.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"pgwarden {string.Join(' ', args)} did not finish in 5 minutes");
        }
        var text = (await stdout) + (await stderr);
        var missing = p.ExitCode != 0 && text.Contains($"Unrecognized command or argument '{args[0]}'", StringComparison.Ordinal);
        if (missing) output.WriteLine($"    `pgwarden {args[0]}` is not available yet in this build (exit {p.ExitCode}: unrecognized command)");
        else foreach (var line in text.TrimEnd().Split('\n')) output.WriteLine("    " + line);
        return (p.ExitCode, text, missing);
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, TimeSpan deadline, CancellationToken ct)
    {
        try
        {
            await LabRunner.WaitAsync(async () =>
            {
                try { return await condition(); }
                catch (NpgsqlException) { return false; }
                catch (InvalidOperationException) { return false; }
            }, deadline, ct);
            return true;
        }
        catch (TimeoutException) { return false; }
    }
}
