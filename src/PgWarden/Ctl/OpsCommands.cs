using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PgWarden.Api;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// Operations commands (patronictl's show-config, edit-config, restart, reload, reinit, remove). Configuration
/// edits go straight to the DCS config key with compare-and-set, as patronictl does; node operations go to the
/// members' REST APIs.
/// </summary>
public static class OpsCommands
{
    private static readonly Option<string?> ConfigFile = new("--config-file", "-c") { Description = "Patroni-format YAML (the agent's file works)", Recursive = true };
    private static readonly Option<string?> DcsUrl = new("--dcs-url", "--dcs", "-d") { Description = "DCS address, [etcd3://]host[:port][/namespace]", Recursive = true };

    public static IEnumerable<Command> Create()
    {
        yield return ShowConfigCommand();
        yield return EditConfigCommand();
        yield return RestartCommand();
        yield return ReloadCommand();
        yield return ReinitCommand();
        yield return RemoveCommand();
    }

    private static Argument<string?> OptionalCluster() => new("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };

    private static Command ShowConfigCommand()
    {
        var cluster = OptionalCluster();
        var command = new Command("show-config", "Show the dynamic configuration (the DCS config key) as YAML") { cluster, ConfigFile, DcsUrl };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, _, _) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            if (view.InvalidConfig is { } bad) return CtlCommands.Fail($"the config key cannot be read: {bad.Error}");
            var json = view.Config is { } c ? JsonNode.Parse(c.RawJson) : new JsonObject();
            Console.Write(YamlJson.ToYaml(json));
            return 0;
        }, ct));
        return command;
    }

    private static Command EditConfigCommand()
    {
        var cluster = OptionalCluster();
        var set = new Option<string[]>("--set", "-s") { Description = "key.path=value (YAML value; null deletes); repeatable", AllowMultipleArgumentsPerToken = false };
        var pg = new Option<string[]>("--pg", "-p") { Description = "PostgreSQL parameter name=value; repeatable" };
        var apply = new Option<string?>("--apply") { Description = "Merge the YAML in FILE (- for stdin)" };
        var replace = new Option<string?>("--replace") { Description = "Replace the configuration with the YAML in FILE (- for stdin)" };
        var force = new Option<bool>("--force") { Description = "Apply without asking" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not show the diff" };
        var command = new Command("edit-config", "Edit the dynamic configuration; every change is validated before it is written")
            { cluster, ConfigFile, DcsUrl, set, pg, apply, replace, force, quiet };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, _, _) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            if (view.InvalidConfig is { } bad && parse.GetValue(replace) is null)
                return CtlCommands.Fail($"the config key cannot be read ({bad.Error}); use --replace to write a whole new configuration");
            var currentJson = view.Config?.RawJson ?? "{}";
            var version = view.Config?.ModRevision ?? view.InvalidConfig?.ModRevision;
            var current = JsonNode.Parse(currentJson) as JsonObject ?? [];
            var edited = (JsonObject)current.DeepClone();

            var applyFile = parse.GetValue(apply);
            var replaceFile = parse.GetValue(replace);
            var sets = parse.GetValue(set) ?? [];
            var pgs = parse.GetValue(pg) ?? [];
            if ((applyFile == "-" || replaceFile == "-") && !parse.GetValue(force))
                return CtlCommands.Fail("reading changes from stdin needs --force (nothing can be confirmed interactively)");
            if (replaceFile is not null) edited = ReadYamlObject(replaceFile);
            if (applyFile is not null) ConfigEdit.Merge(edited, ReadYamlObject(applyFile));
            foreach (var s in sets) ConfigEdit.Set(edited, s);
            foreach (var p in pgs) ConfigEdit.Set(edited, "postgresql.parameters." + p);

            var before = YamlJson.ToYaml(current);
            if (applyFile is null && replaceFile is null && sets.Length == 0 && pgs.Length == 0)
            {
                if (Console.IsInputRedirected || Console.IsOutputRedirected)
                    return CtlCommands.Fail("no change given (-s, -p, --apply or --replace) and no terminal to open an editor on");
                edited = await EditInEditorAsync(before, ct);
            }
            var after = YamlJson.ToYaml(edited);
            if (after == before)
            {
                Console.WriteLine("Not changed");
                return 0;
            }

            var errors = DynamicConfigParser.ValidateStrict(edited);
            if (errors.Count > 0)
            {
                foreach (var e in errors) Console.Error.WriteLine($"Error: {e}");
                Console.Error.WriteLine("Configuration not changed.");
                return 1;
            }
            if (!parse.GetValue(quiet)) Console.Write(UnifiedDiff.Render(before, after));
            if (!parse.GetValue(force) && !Confirm("Apply these changes?")) return CtlCommands.Fail("Aborted");
            if (!await dcs.SetConfigAsync(PythonJson.Serialize(edited), version, ct))
                return CtlCommands.Fail("Config modification aborted due to concurrent changes");
            Console.WriteLine("Configuration changed");
            return 0;
        }, ct));
        return command;
    }

    private static JsonObject ReadYamlObject(string file)
    {
        var text = file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file);
        return YamlJson.FromYaml(text) switch
        {
            JsonObject o => o,
            null => [],
            _ => throw new ConfigException(file, $"{(file == "-" ? "stdin" : file)} does not hold a YAML mapping"),
        };
    }

    private static async Task<JsonObject> EditInEditorAsync(string yaml, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pgwarden-config-{Guid.NewGuid():N}.yaml");
        // Owner-only from the first byte: other users have no business reading the cluster's configuration.
        await using (var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        await using (var writer = new StreamWriter(file))
            await writer.WriteAsync(yaml.AsMemory(), ct);
        try
        {
            var editor = Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e : File.Exists("/usr/bin/editor") ? "editor" : "vi";
            var words = Ha.Operations.ShellWords.Split(editor);
            var psi = new ProcessStartInfo(words[0]) { UseShellExecute = false };
            foreach (var w in words.Skip(1)) psi.ArgumentList.Add(w);
            psi.ArgumentList.Add(path);
            using var process = Process.Start(psi) ?? throw new ConfigException("EDITOR", $"cannot start the editor {editor}");
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0) throw new ConfigException("EDITOR", $"the editor {editor} exited with code {process.ExitCode}");
            return ReadYamlObject(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Command RestartCommand()
    {
        var cluster = new Argument<string>("cluster");
        var members = new Argument<string[]>("member") { Arity = ArgumentArity.ZeroOrMore };
        var role = RoleOption();
        var any = new Option<bool>("--any") { Description = "Restart one member chosen at random" };
        var scheduled = new Option<string?>("--scheduled") { Description = "When: ISO-8601 timestamp (local time zone if none given) or now" };
        var pgVersion = new Option<string?>("--pg-version") { Description = "Restart only members running a version below X.Y[.Z]" };
        var pending = new Option<bool>("--pending") { Description = "Restart only members with a pending restart" };
        var timeout = new Option<string?>("--timeout") { Description = "Start timeout for the restart (seconds)" };
        var force = new Option<bool>("--force") { Description = "Do not ask; with --scheduled, replace an existing scheduled restart" };
        var command = new Command("restart", "Restart PostgreSQL on members, one at a time, replicas before the leader (with --pending, after the leader when it lowers max_connections or another value a replica may not run below)")
            { cluster, members, ConfigFile, DcsUrl, CtlContext.InsecureOption, role, any, scheduled, pgVersion, pending, timeout, force };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, name, context) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            var chosen = SelectMembers(view, name, parse.GetValue(members) ?? [], parse.GetValue(role)!);
            if (parse.GetValue(any) && chosen.Count > 0) chosen = [chosen[Random.Shared.Next(chosen.Count)]];
            if (parse.GetValue(pgVersion) is { } v && !Ha.Operations.PostgresVersionText.TryParse(v, out _, out var versionError))
                return CtlCommands.Fail(versionError);
            var body = new JsonObject();
            if (parse.GetValue(pending)) body["restart_pending"] = true;
            if (parse.GetValue(pgVersion) is { } version) body["postgres_version"] = version;
            if (parse.GetValue(timeout) is { } t) body["timeout"] = t;
            string? schedule = null;
            if (parse.GetValue(scheduled) is { } when && when != "now")
            {
                if (!DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at))
                    return CtlCommands.Fail($"--scheduled '{when}' is not a timestamp (expected ISO-8601, e.g. 2030-01-01T10:00+00:00, or now)");
                schedule = at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
                body["schedule"] = schedule;
            }
            // A lowered max_connections (max_wal_senders, ...) on the leader must reach the replicas through the primary:
            // the leader restarts first (replicas pending for that alone would only keep the old value), and replicas are
            // looked at again after it (RestartReplicasAfterLoweredLeaderAsync).
            var eligibleReplicas = chosen.Where(m => m.Name != view.Leader?.Name).ToList();
            var loweredNames = schedule is null && parse.GetValue(pending) && view.LeaderMember?.Data is { } leaderData
                && chosen.Any(m => m.Name == view.Leader?.Name) ? LoweredStandbyMinimums(leaderData) : [];
            var lowered = loweredNames.Count > 0;
            if (schedule is null && parse.GetValue(pending))
                chosen = chosen.Where(m => m.Data.PendingRestart).Where(m => !lowered || m.Name == view.Leader?.Name).ToList();
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            if (chosen.Count == 0) return CtlCommands.Fail("no member to restart");
            if (!parse.GetValue(force) && !Confirm($"Are you sure you want to restart members {string.Join(", ", chosen.Select(m => m.Name))}?"))
                return CtlCommands.Fail("Aborted restart");

            using var api = new MemberApi(context, parse.GetValue(CtlContext.InsecureOption));
            var failures = 0;
            foreach (var member in chosen)
            {
                if (schedule is not null && parse.GetValue(force))
                    await api.SendAsync(HttpMethod.Delete, member.Data, "/restart", null, TimeSpan.FromSeconds(10), ct);
                var (code, text) = await api.SendAsync(HttpMethod.Post, member.Data, "/restart", PythonJson.Serialize(body), TimeSpan.FromMinutes(10), ct);
                if (code == 200 && schedule is null)
                {
                    Console.WriteLine($"Success: restart on member {member.Name}");
                    await WaitRunningAsync(dcs, member.Name, TimeSpan.FromMinutes(2), ct);
                }
                else if (code == 202) Console.WriteLine($"Success: restart scheduled on member {member.Name}");
                else if (code == 409) { Console.WriteLine($"Failed: another restart is already scheduled on member {member.Name}"); failures++; }
                else { Console.WriteLine($"Failed: restart for member {member.Name}, status code={code}, ({text})"); failures++; }
            }
            if (lowered && failures == 0)
            {
                var loopWait = TimeSpan.FromSeconds(view.Config?.Value.LoopWait ?? 10);
                failures += await RestartReplicasAfterLoweredLeaderAsync(dcs, api, body, view.Leader!.Name,
                    view.LeaderMember?.Data.XlogLocation ?? 0, loweredNames, [.. eligibleReplicas.Select(m => m.Name)], loopWait, ct);
            }
            return failures == 0 ? 0 : 1;
        }, ct));
        return command;
    }

    /// <summary>The parameters the leader's pending restart lowers that a standby may not run below the primary's value.</summary>
    private static List<string> LoweredStandbyMinimums(MemberData leader) =>
        leader.PendingRestartReason is not { } reason ? [] : [.. Postgres.PostgresParameters.StandbyMinimumParameters.Where(name =>
            reason[name] is JsonObject change
            && long.TryParse(change["old_value"]?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var old)
            && long.TryParse(change["new_value"]?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var @new)
            && @new < old)];

    /// <summary>
    /// A lowered max_connections (max_wal_senders, max_worker_processes, ...) cannot be applied on a replica before the
    /// primary runs it: until then the replica keeps its pg_control value (the primary's old, higher one). Once a replica
    /// has replayed past the leader's restart (its parameter-change record) its agent writes the new value and the
    /// replica turns pending: restart it then. Patroni leaves that second command to the operator.
    /// </summary>
    private static async Task<int> RestartReplicasAfterLoweredLeaderAsync(IDcs dcs, MemberApi api, JsonObject body, string leaderName,
        long leaderLsnBefore, IReadOnlyList<string> lowered, IReadOnlyList<string> replicas, TimeSpan loopWait, CancellationToken ct)
    {
        var failures = 0;
        var until = DateTimeOffset.UtcNow + 2 * loopWait + TimeSpan.FromSeconds(10);
        var view = await dcs.GetClusterAsync(ct);
        // The leader's shutdown checkpoint and its parameter-change record at start-up move its WAL position past what
        // it reported before the restart: the first key beyond that (the restarted leader's first 'running' key can
        // still carry the old position, or none) is a position every replica must have replayed.
        long leaderLsn;
        while (view.FindMember(leaderName)?.Data is not { State: "running", XlogLocation: { } lsn } || (leaderLsn = lsn) <= leaderLsnBefore)
        {
            if (DateTimeOffset.UtcNow > until)
            {
                Console.WriteLine($"Warning: the leader {leaderName} has not reported its WAL position since its restart; " +
                    "run 'pgwarden restart --pending' again once the replicas show a pending restart");
                return 0;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
            view = await dcs.GetClusterAsync(ct);
        }
        foreach (var name in replicas)
        {
            // Each replica gets at least a cycle of its own, however long the previous one's restart took.
            var replicaUntil = until > DateTimeOffset.UtcNow + loopWait + TimeSpan.FromSeconds(2) ? until : DateTimeOffset.UtcNow + loopWait + TimeSpan.FromSeconds(2);
            DateTimeOffset? caughtUpAt = null;
            while (true)
            {
                var data = view.FindMember(name)?.Data;
                if (data is null) break;
                var replayed = data.ReplayLsn ?? data.XlogLocation;
                var caughtUp = data is { State: "running", ReplicationState: "streaming" } && replayed >= leaderLsn;
                if (caughtUp) caughtUpAt ??= DateTimeOffset.UtcNow;
                // The key that first shows the replay may predate the agent's rewrite of the configuration in that same
                // cycle: not pending a whole cycle later (the key is rewritten when pending changes) means nothing to do.
                if (caughtUp && !data.PendingRestart && DateTimeOffset.UtcNow - caughtUpAt > loopWait + TimeSpan.FromSeconds(1)) break;
                if (caughtUp && data.PendingRestart)
                {
                    Console.WriteLine($"Member {name} is pending restart once it has the leader's lowered {string.Join(", ", lowered)} " +
                        "(a replica gets it only through the primary): restarting it after the leader");
                    var (code, text) = await api.SendAsync(HttpMethod.Post, data, "/restart", PythonJson.Serialize(body), TimeSpan.FromMinutes(10), ct);
                    if (code == 200)
                    {
                        Console.WriteLine($"Success: restart on member {name}");
                        await WaitRunningAsync(dcs, name, TimeSpan.FromMinutes(2), ct);
                    }
                    else { Console.WriteLine($"Failed: restart for member {name}, status code={code}, ({text})"); failures++; }
                    break;
                }
                if (DateTimeOffset.UtcNow > replicaUntil)
                {
                    Console.WriteLine($"Warning: member {name} has not reported replaying the leader's restart in time; " +
                        $"check it with 'pgwarden list' and run 'pgwarden restart --pending' again if it is pending");
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
                view = await dcs.GetClusterAsync(ct);
            }
        }
        return failures;
    }

    /// <summary>After a restart: wait until the member key says running again (a replica also streams) before the next.</summary>
    private static async Task WaitRunningAsync(IDcs dcs, string member, TimeSpan deadline, CancellationToken ct)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        while (DateTimeOffset.UtcNow < until)
        {
            var view = await dcs.GetClusterAsync(ct);
            if (view.FindMember(member)?.Data is { State: "running" } d && (view.Leader?.Name == member || d.ReplicationState == "streaming")) return;
            await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
        }
    }

    private static Option<string> RoleOption()
    {
        var role = new Option<string>("--role", "-r") { Description = "leader, primary, replica, standby or any", DefaultValueFactory = _ => "any" };
        role.AcceptOnlyFromAmong("leader", "primary", "master", "standby-leader", "replica", "standby", "any");
        return role;
    }

    /// <summary>Named members (or all), filtered by role; replicas first and the leader last, so a rolling restart never restarts the leader before its replicas.</summary>
    private static List<Member> SelectMembers(ClusterView view, string cluster, IReadOnlyList<string> names, string role)
    {
        foreach (var n in names)
            if (view.FindMember(n) is null) throw new ConfigException("member", $"{n} is not a member of cluster {cluster}");
        var leader = view.Leader?.Name;
        return view.Members
            .Where(m => names.Count == 0 || names.Contains(m.Name))
            .Where(m => role switch
            {
                "leader" or "primary" or "master" or "standby-leader" => m.Name == leader,
                "replica" or "standby" => m.Name != leader,
                _ => true,
            })
            .OrderBy(m => m.Name == leader ? 1 : 0).ThenBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static Command ReloadCommand()
    {
        var cluster = new Argument<string>("cluster");
        var members = new Argument<string[]>("member") { Arity = ArgumentArity.ZeroOrMore };
        var role = RoleOption();
        var force = new Option<bool>("--force") { Description = "Do not ask" };
        var command = new Command("reload", "Make members re-apply their configuration and reload PostgreSQL") { cluster, members, ConfigFile, DcsUrl, CtlContext.InsecureOption, role, force };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, name, context) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            var chosen = SelectMembers(view, name, parse.GetValue(members) ?? [], parse.GetValue(role)!);
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            if (!parse.GetValue(force) && !Confirm($"Are you sure you want to reload members {string.Join(", ", chosen.Select(m => m.Name))}?"))
                return CtlCommands.Fail("Aborted reload");
            using var api = new MemberApi(context, parse.GetValue(CtlContext.InsecureOption));
            var failures = 0;
            var loopWait = view.Config?.Value.LoopWait ?? 10;
            foreach (var member in chosen)
            {
                var (code, text) = await api.SendAsync(HttpMethod.Post, member.Data, "/reload", null, TimeSpan.FromSeconds(10), ct);
                if (code == 202) Console.WriteLine($"Reload request received for member {member.Name} and will be processed within {loopWait} seconds");
                else { Console.WriteLine($"Failed: reload for member {member.Name}, status code={code}, ({text})"); failures++; }
            }
            return failures == 0 ? 0 : 1;
        }, ct));
        return command;
    }

    private static Command ReinitCommand()
    {
        var cluster = new Argument<string>("cluster");
        var members = new Argument<string[]>("member") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force") { Description = "Do not ask; cancel an operation in progress" };
        var wait = new Option<bool>("--wait") { Description = "Wait until each member runs and streams again" };
        var command = new Command("reinit", "Wipe a replica's data directory and clone it again from the leader") { cluster, members, ConfigFile, DcsUrl, CtlContext.InsecureOption, force, wait };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, name, context) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            var chosen = SelectMembers(view, name, parse.GetValue(members)!, "any");
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            if (!parse.GetValue(force) && !Confirm($"Are you sure you want to reinitialize members {string.Join(", ", chosen.Select(m => m.Name))}?"))
                return CtlCommands.Fail("Aborted reinitialize");
            using var api = new MemberApi(context, parse.GetValue(CtlContext.InsecureOption));
            var failures = 0;
            var started = new List<string>();
            foreach (var member in chosen)
            {
                var body = PythonJson.Serialize(new JsonObject { ["force"] = parse.GetValue(force) });
                var (code, text) = await api.SendAsync(HttpMethod.Post, member.Data, "/reinitialize", body, TimeSpan.FromSeconds(30), ct);
                if (code == 200) { Console.WriteLine($"Success: reinitialize for member {member.Name}"); started.Add(member.Name); }
                else { Console.WriteLine($"Failed: reinitialize for member {member.Name}, status code={code}, ({text})"); failures++; }
            }
            if (parse.GetValue(wait))
            {
                foreach (var member in started)
                {
                    Console.WriteLine($"Waiting for reinitialize to complete on: {member}");
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                    await WaitRunningAsync(dcs, member, TimeSpan.FromHours(12), ct);
                    Console.WriteLine($"Reinitialize is completed on: {member}");
                }
            }
            return failures == 0 ? 0 : 1;
        }, ct));
        return command;
    }

    private static Command RemoveCommand()
    {
        var cluster = new Argument<string>("cluster");
        var command = new Command("remove", "Remove every DCS key of a cluster (asks for the cluster name, a confirmation phrase and the leader name)")
            { cluster, ConfigFile, DcsUrl };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, parse.GetValue(cluster), async (dcs, name, _) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            if (Ask("Please confirm the cluster name to remove") != name) return CtlCommands.Fail("Cluster names specified do not match");
            const string Phrase = "Yes I am aware";
            if (Ask($"You are about to remove all information in DCS for {name}, please type: \"{Phrase}\"") != Phrase)
                return CtlCommands.Fail("You did not exactly type \"" + Phrase + "\"");
            if (view.Leader is { } leader && Ask("This cluster currently is healthy. Please specify the leader name to continue") != leader.Name)
                return CtlCommands.Fail("You did not specify the current leader of the cluster");
            await dcs.DeleteClusterAsync(ct);
            return 0;
        }, ct));
        return command;
    }

    private static string? Ask(string prompt)
    {
        Console.Write(prompt + ": ");
        return Console.ReadLine()?.Trim();
    }

    private static bool Confirm(string prompt)
    {
        Console.Write(prompt + " [y/N]: ");
        return Console.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    private static async Task<int> WithDcsAsync(ParseResult parse, string? cluster, Func<IDcs, string, CtlContext, Task<int>> action, CancellationToken ct)
    {
        try
        {
            var context = CtlContext.Load(parse.GetValue(ConfigFile), parse.GetValue(DcsUrl));
            var name = context.ClusterName(cluster);
            using var loggers = AgentLogging.Create(LogLevel.Warning);
            await using var dcs = context.OpenDcs(name, loggers);
            return await action(dcs, name, context);
        }
        catch (ConfigException e) { return CtlCommands.Fail(e.Message); }
        catch (DcsException e) { return CtlCommands.Fail($"cannot reach the DCS ({e.Kind}): {e.Message}"); }
        catch (HttpRequestException e) { return CtlCommands.Fail($"a member's REST API did not answer: {e.Message}"); }
        catch (JsonException e) { return CtlCommands.Fail($"not valid JSON: {e.Message}"); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return 130; }
    }

}
