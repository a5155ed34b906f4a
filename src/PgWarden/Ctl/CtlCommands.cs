using System.CommandLine;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>The patronictl-like commands: they read the DCS directly, as patronictl does.</summary>
public static class CtlCommands
{
    internal static readonly Option<string?> ConfigFile = new("--config-file", "-c") { Description = "Patroni-format YAML (the agent's file works), default ~/.config/patroni/patronictl.yaml", Recursive = true };
    internal static readonly Option<string?> DcsUrl = new("--dcs-url", "--dcs", "-d") { Description = "DCS address, [etcd3://|etcd://|zookeeper://]host[:port][/namespace]", Recursive = true };

    public static IEnumerable<Command> Create()
    {
        yield return ListCommand("list", "List the members of a cluster", topology: false);
        yield return ListCommand("topology", "List the members of a cluster as a replication tree", topology: true);
        yield return HistoryCommand();
        foreach (var command in FailoverCommands.Create(ConfigFile, DcsUrl)) yield return command;
        yield return VersionCommand();
        yield return HaproxyConfigCommand.Create();
        foreach (var command in QueryCommands.Create()) yield return command;
    }

    private static Command ListCommand(string name, string description, bool topology)
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };
        var format = new Option<string>("--format", "-f") { Description = "pretty, tsv, json or yaml", DefaultValueFactory = _ => "pretty" };
        format.AcceptOnlyFromAmong("pretty", "tsv", "json", "yaml", "yml");
        var extended = new Option<bool>("--extended", "-e") { Description = "Show every optional column" };
        var watchOnce = new Option<bool>("-W") { Description = "Refresh every 2 seconds until interrupted" };
        var watch = new Option<double?>("--watch", "-w") { Description = "Refresh every SECONDS until interrupted" };
        var command = new Command(name, description) { cluster, ConfigFile, DcsUrl, extended, watchOnce, watch };
        if (!topology) command.Options.Add(format);
        command.SetAction(async (parse, ct) =>
        {
            var fmt = topology ? "topology" : parse.GetValue(format)!;
            if (fmt == "yml") fmt = "yaml";
            var interval = parse.GetValue(watch) ?? (parse.GetValue(watchOnce) ? 2.0 : (double?)null);
            if (interval is <= 0) return Fail($"--watch {interval} is not a positive number of seconds");
            return await WithDcsAsync(parse, cluster, async (dcs, name) =>
            {
                do
                {
                    var view = await dcs.GetClusterAsync(ct);
                    if (interval is not null) Console.Write("\u001b[H\u001b[2J");
                    Console.Write(ClusterTable.Render(view, name, fmt, parse.GetValue(extended)));
                    if (interval is null) break;
                    await Task.Delay(TimeSpan.FromSeconds(interval.Value), ct);
                } while (!ct.IsCancellationRequested);
                return 0;
            }, ct);
        });
        return command;
    }

    private static Command HistoryCommand()
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string>("--format", "-f") { DefaultValueFactory = _ => "pretty" };
        var command = new Command("history", "Show the history of failovers and switchovers") { cluster, ConfigFile, DcsUrl, format };
        command.SetAction(async (parse, ct) => await WithDcsAsync(parse, cluster, async (dcs, _) =>
        {
            var view = await dcs.GetClusterAsync(ct);
            Console.Write(HistoryTable.Render(view.History ?? [], parse.GetValue(format)!));
            return 0;
        }, ct));
        return command;
    }

    private static Command VersionCommand()
    {
        var command = new Command("version", "Show the PgWarden version (and the Patroni version it is compatible with)");
        command.SetAction(_ =>
        {
            Console.WriteLine($"pgwarden version {AgentVersion.Current} (Patroni {Ha.MemberKeyBuilder.PatroniCompatVersion} compatible)");
            return 0;
        });
        return command;
    }

    internal static Task<int> WithDcsAsync(ParseResult parse, Argument<string?> cluster, Func<IDcs, string, Task<int>> action, CancellationToken ct) =>
        WithDcsAsync(parse, cluster, ConfigFile, DcsUrl, action, ct);

    /// <summary>configFile/dcsUrl: the options this command reads them from (query's -c and -d mean SQL and dbname).</summary>
    internal static async Task<int> WithDcsAsync(ParseResult parse, Argument<string?> cluster, Option<string?> configFile, Option<string?> dcsUrl,
        Func<IDcs, string, Task<int>> action, CancellationToken ct)
    {
        try
        {
            var context = CtlContext.Load(parse.GetValue(configFile), parse.GetValue(dcsUrl));
            var name = context.ClusterName(parse.GetValue(cluster));
            using var loggers = AgentLogging.Create(LogLevel.Warning);
            await using var dcs = context.OpenDcs(name, loggers);
            return await action(dcs, name);
        }
        catch (ConfigException e) { return Fail(e.Message); }
        catch (DcsException e) { return Fail($"cannot read the cluster from the DCS ({e.Kind}): {e.Message}"); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return 130; }
    }

    /// <summary>patronictl's error form: "Error: ..." on stderr, exit code 1.</summary>
    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"Error: {message}");
        return 1;
    }
}
