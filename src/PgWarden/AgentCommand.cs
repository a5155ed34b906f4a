using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PgWarden.Config;

namespace PgWarden;

/// <summary>`pgwarden agent FILE`: runs the HA agent for one node until SIGTERM.</summary>
public static class AgentCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("config") { Description = "Patroni-format YAML file (or a directory of *.yml); may be omitted when PATRONI_* variables carry the configuration", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("agent", "Run the HA agent beside one PostgreSQL server") { file };
        command.SetAction(async (parse, ct) => await RunAsync(parse.GetValue(file), ct));
        return command;
    }

    private static async Task<int> RunAsync(string? path, CancellationToken ct)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await Console.Error.WriteLineAsync(
                "pgwarden agent: refusing to run as root. PostgreSQL cannot run as root; start the agent as the OS user that " +
                "owns the data directory, e.g. `runuser -u postgres -- pgwarden agent /etc/pgwarden/node1.yml`.");
            return 1;
        }

        AgentConfig config;
        var warnings = new List<string>();
        try
        {
            config = ConfigLoader.Load(path, EnvironmentVariables(), warnings);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"pgwarden agent: invalid configuration: {e.Message}");
            return 2;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"pgwarden agent: cannot read configuration {path}: {e.Message}");
            return 2;
        }

        var problems = ConfigValidator.Validate(config);
        if (problems.Count > 0)
        {
            foreach (var p in problems) await Console.Error.WriteLineAsync($"pgwarden agent: invalid configuration: {p}");
            return 2;
        }

        using var loggers = AgentLogging.Create(config);
        var log = loggers.CreateLogger("pgwarden");
        foreach (var w in warnings) log.LogWarning("{Warning}", w);

        // SIGTERM and SIGINT end the loop; the agent then stops PostgreSQL and releases its lock.
        // Deliberately not disposed: a signal may still arrive while the agent is on its way out.
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Cancel(); });
        await using var agent = await Agent.CreateAsync(config, loggers, TimeProvider.System, stop.Token);
        return await agent.RunAsync(stop.Token);
    }

    internal static Dictionary<string, string?> EnvironmentVariables() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
}
