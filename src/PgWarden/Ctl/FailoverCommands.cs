using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// switchover, failover, pause and resume: like patronictl they talk to the leader's REST API (basic auth from
/// ctl.authentication, else restapi.authentication) and prompt when interactive. With --force or without a TTY
/// they never prompt; they wait for the outcome and print the new leader and how long it took.
/// </summary>
public static class FailoverCommands
{
    public static IEnumerable<Command> Create(Option<string?> configFile, Option<string?> dcsUrl)
    {
        yield return SwitchoverCommand(configFile, dcsUrl, "switchover", "Switchover to a replica");
        yield return SwitchoverCommand(configFile, dcsUrl, "failover", "Failover to a replica");
        yield return PauseCommand(configFile, dcsUrl, pause: true);
        yield return PauseCommand(configFile, dcsUrl, pause: false);
    }

    private static Command SwitchoverCommand(Option<string?> configFile, Option<string?> dcsUrl, string action, string description)
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };
        var leader = new Option<string?>("--leader", "--primary", "--master") { Description = "The name of the current leader" };
        var candidate = new Option<string?>("--candidate") { Description = "The name of the candidate" };
        var scheduled = new Option<string?>("--scheduled") { Description = "Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)" };
        var force = new Option<bool>("--force") { Description = "Do not ask for confirmation at any point" };
        var command = new Command(action, description) { cluster, configFile, dcsUrl, CtlContext.InsecureOption, candidate, force };
        if (action == "switchover") { command.Options.Add(leader); command.Options.Add(scheduled); }
        command.SetAction(async (parse, ct) => await RunAsync(parse, configFile, dcsUrl, cluster, async (ctx, dcs, name) =>
        {
            var interactive = !parse.GetValue(force) && !Console.IsInputRedirected;
            var view = await dcs.GetClusterAsync(ct);
            var current = view.Leader?.Name;
            var leaderName = action == "switchover" ? parse.GetValue(leader) : null;
            var candidateName = parse.GetValue(candidate);
            var scheduledAt = action == "switchover" ? parse.GetValue(scheduled) : null;

            if (action == "switchover")
            {
                if (current is null) return CtlCommands.Fail($"This cluster has no leader");
                leaderName ??= interactive ? Prompt("Primary", current) : current;
                if (leaderName != current) return CtlCommands.Fail($"Member {leaderName} is not the leader of cluster {name}");
            }
            var others = view.Members.Select(m => m.Name).Where(n => n != current).OrderBy(n => n, StringComparer.Ordinal).ToList();
            if (candidateName is null && interactive)
                candidateName = NullIfEmpty(Prompt($"Candidate ['{string.Join("', '", others)}']", ""));
            if (action == "failover" && candidateName is null) return CtlCommands.Fail("Failover could be performed only to a specific candidate");
            if (candidateName is not null && candidateName == leaderName) return CtlCommands.Fail("Switchover target and source are the same.");
            if (candidateName is not null && view.FindMember(candidateName) is null) return CtlCommands.Fail($"Member {candidateName} does not exist in cluster {name}");
            if (action == "switchover" && scheduledAt is null && interactive)
            {
                var now = DateTime.Now.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);
                scheduledAt = NullIfEmpty(Prompt($"When should the switchover take place (e.g. {now} ) ", "now"));
                if (scheduledAt == "now") scheduledAt = null;
            }

            Console.WriteLine("Current cluster topology");
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            if (interactive)
            {
                var question = action == "switchover"
                    ? $"Are you sure you want to switchover cluster {name}, demoting current leader {current}?"
                    : $"Are you sure you want to failover cluster {name}{(current is null ? "" : $", demoting current leader {current}")}?";
                if (!Confirm(question)) return CtlCommands.Fail("Aborting " + action);
            }

            var body = new JsonObject();
            if (leaderName is not null) body["leader"] = leaderName;
            if (candidateName is not null) body["candidate"] = candidateName;
            if (scheduledAt is not null) body["scheduled_at"] = scheduledAt;
            var target = view.LeaderMember ?? view.Members.FirstOrDefault(m => m.Name == candidateName);
            var sw = Stopwatch.StartNew();
            var (code, text) = await ctx.SendAsync(target, HttpMethod.Post, action, body, ct);
            if (code is null)
            {
                // The API cannot be reached: write the failover key ourselves, as patronictl does.
                var key = new JsonObject();
                if (leaderName is not null) key["leader"] = leaderName;
                if (candidateName is not null) key["member"] = candidateName;
                if (scheduledAt is not null) key["scheduled_at"] = scheduledAt;
                await dcs.SetFailoverAsync(key.ToJsonString(), null, ct);
                text = $"{Title(action)} request written to the DCS ({text})";
            }
            else if (code is >= 400 and not 503)
            {
                return CtlCommands.Fail(text);
            }
            else if (code == 503 && text.StartsWith($"{Title(action)} failed: ", StringComparison.Ordinal))
            {
                // The leader answered with the reason it dropped the request.
                return CtlCommands.Fail($"{Title(action)} failed: {current} is still the leader; it dropped the request: {text[(Title(action).Length + 9)..]}");
            }
            Console.WriteLine($"{DateTime.Now:yyyy-MM-dd HH:mm:ss.fffff} {text}");
            if (scheduledAt is not null && code == 202) return 0;

            // Never "status unknown": wait for the lock to move (or the request to be dropped) and say which.
            var deadline = TimeSpan.FromSeconds(60);
            string? newLeader = null;
            while (sw.Elapsed < deadline)
            {
                var now = await dcs.GetClusterAsync(ct);
                if (now.Leader is { } l && l.Name != current && now.LeaderMember?.Data.Role is "master" or "primary") { newLeader = l.Name; view = now; break; }
                if (now.Leader is null || now.Leader.Name == current)
                {
                    if (now.Failover is null or { IsEmpty: true } && now.Leader?.Name == current && sw.Elapsed > TimeSpan.FromSeconds(2))
                        return CtlCommands.Fail($"{Title(action)} failed: {current} is still the leader and the request was dropped " +
                                                "(see the line 'dropping the failover/switchover request' in its log for why)");
                }
                await Task.Delay(200, ct);
            }
            if (newLeader is null) return CtlCommands.Fail($"{Title(action)} did not complete within {deadline.TotalSeconds:0} s; the cluster has {(view.Leader is null ? "no leader" : "leader " + view.Leader.Name)}");
            Console.WriteLine($"New leader: {newLeader} (took {sw.Elapsed.TotalSeconds:0.0} s)");
            Console.Write(ClusterTable.Render(view, name, "pretty", false));
            return 0;
        }, ct));
        return command;
    }

    private static Command PauseCommand(Option<string?> configFile, Option<string?> dcsUrl, bool pause)
    {
        var name = pause ? "pause" : "resume";
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne };
        var wait = new Option<bool>("--wait") { Description = "Wait until every member has recognised the change" };
        var command = new Command(name, pause ? "Disable auto failover" : "Resume auto failover") { cluster, configFile, dcsUrl, wait };
        command.SetAction(async (parse, ct) => await RunAsync(parse, configFile, dcsUrl, cluster, async (ctx, dcs, clusterName) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            var paused = view.Config?.Value.Pause ?? false;
            if (paused == pause) return CtlCommands.Fail($"Cluster is {(pause ? "already" : "not")} paused");
            var member = view.LeaderMember ?? view.Members.FirstOrDefault(m => m.Data.ApiUrl is not null);
            var body = new JsonObject { ["pause"] = pause ? true : null };
            var (code, text) = await ctx.SendAsync(member, HttpMethod.Patch, "config", body, ct);
            if (code != 200) return CtlCommands.Fail($"Failed to {name} cluster management: {text}");
            if (parse.GetValue(wait))
            {
                Console.WriteLine($"'{name}' request sent, waiting until it is recognized by all nodes");
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var now = await dcs.GetClusterAsync(ct);
                    if (now.Members.All(m => m.Data.Pause == pause)) break;
                    await Task.Delay(200, ct);
                }
            }
            Console.WriteLine($"Success: cluster management is {(pause ? "paused" : "resumed")}");
            return 0;
        }, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string?> configFile, Option<string?> dcsUrl, Argument<string?> cluster,
        Func<RestClient, IDcs, string, Task<int>> action, CancellationToken ct)
    {
        try
        {
            var path = parse.GetValue(configFile);
            var context = CtlContext.Load(path, parse.GetValue(dcsUrl));
            var name = context.ClusterName(parse.GetValue(cluster));
            using var loggers = AgentLogging.Create(LogLevel.Warning);
            await using var dcs = context.OpenDcs(name, loggers);
            using var rest = RestClient.Create(context, parse.GetValue(CtlContext.InsecureOption));
            return await action(rest, dcs, name);
        }
        catch (ConfigException e) { return CtlCommands.Fail(e.Message); }
        catch (DcsException e) { return CtlCommands.Fail($"cannot reach the DCS ({e.Kind}): {e.Message}"); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return 130; }
    }

    private static string Prompt(string question, string defaultValue)
    {
        Console.Write($"{question} [{defaultValue}]: ");
        var answer = Console.ReadLine()?.Trim();
        return string.IsNullOrEmpty(answer) ? defaultValue : answer;
    }

    private static bool Confirm(string question)
    {
        Console.Write($"{question} [y/N]: ");
        return Console.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    private static string? NullIfEmpty(string s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string Title(string s) => char.ToUpperInvariant(s[0]) + s[1..];


    /// <summary>Calls a member's REST API with the credentials patronictl would use.</summary>
    internal sealed class RestClient(HttpClient http, AuthenticationHeaderValue? auth) : IDisposable
    {
        public static RestClient Create(CtlContext context, bool insecure) =>
            new(context.RestHttp(insecure, TimeSpan.FromSeconds(90)), context.RestAuth);

        /// <summary>(status, body); status null when the member could not be reached (body says why).</summary>
        public async Task<(int? Code, string Text)> SendAsync(Member? member, HttpMethod method, string endpoint, JsonObject body, CancellationToken ct)
        {
            if (member?.Data.ApiUrl is not { } apiUrl) return (null, "no member with a REST API to ask");
            var url = apiUrl[..(apiUrl.LastIndexOf('/') + 1)] + endpoint;
            using var request = new HttpRequestMessage(method, url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = auth;
            try
            {
                using var response = await http.SendAsync(request, ct);
                return ((int)response.StatusCode, (await response.Content.ReadAsStringAsync(ct)).Trim());
            }
            catch (HttpRequestException e) { return (null, $"{url}: {e.Message}"); }
        }

        public void Dispose() => http.Dispose();
    }
}
