using System.CommandLine;
using PgWarden.Ctl;

namespace PgWarden;

/// <summary>
/// The single entry point: the agent, the control commands (like patronictl) and the lab share one executable.
/// Patroni's positional form `pgwarden FILE` starts the agent too.
/// </summary>
public static class Cli
{
    public static async Task<int> Run(string[] args)
    {
        if (args.Length == 1 && !args[0].StartsWith('-') && (File.Exists(args[0]) || Directory.Exists(args[0])))
            args = ["agent", args[0]];

        var root = new RootCommand("PgWarden: high availability for PostgreSQL, wire-compatible with Patroni.");
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(ValidateConfigCommand.Create());
        foreach (var command in CtlCommands.Create()) root.Subcommands.Add(command);
        foreach (var command in OpsCommands.Create()) root.Subcommands.Add(command);
        root.Subcommands.Add(Lab.LabCommand.Create());
        // The agent handles SIGTERM itself: a clean PostgreSQL stop may take longer than System.CommandLine's
        // default grace period, after which it would kill the process.
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
