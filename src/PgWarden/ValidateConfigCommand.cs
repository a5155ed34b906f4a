using System.CommandLine;
using PgWarden.Config;

namespace PgWarden;

/// <summary>`pgwarden validate-config FILE`: checks a configuration and starts nothing.</summary>
public static class ValidateConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("config") { Description = "Patroni-format YAML file to check", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("validate-config", "Check a configuration file (and PATRONI_* variables) without starting anything") { file };
        command.SetAction(parse =>
        {
            var warnings = new List<string>();
            try
            {
                var config = ConfigLoader.Load(parse.GetValue(file), AgentCommand.EnvironmentVariables(), warnings);
                foreach (var w in warnings) Console.Error.WriteLine($"warning: {w}");
                var problems = ConfigValidator.Validate(config);
                foreach (var p in problems) Console.Error.WriteLine($"error: {p}");
                if (problems.Count > 0) return 2;
                Console.WriteLine($"configuration is valid: scope {config.Scope}, member {config.Name}");
                return 0;
            }
            catch (ConfigException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"error: cannot read configuration: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
