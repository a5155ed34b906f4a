using System.CommandLine;
using PgWarden.Lab;

namespace PgWarden.Ctl;

/// <summary>
/// `pgwarden haproxy-config`: an haproxy.cfg for the cluster's members as the DCS lists them (read-write port to
/// the node whose /primary answers 200, read-only port round-robin over /replica, a stats page). The lab writes
/// its HAProxy file with the same code.
/// </summary>
public static class HaproxyConfigCommand
{
    public static Command Create()
    {
        var cluster = new Argument<string?>("cluster") { Arity = ArgumentArity.ZeroOrOne, Description = "Cluster name (default: scope from the config)" };
        var bind = new Option<string>("--bind") { Description = "Address HAProxy listens on", DefaultValueFactory = _ => "*" };
        var rw = new Option<int>("--rw-port") { Description = "Read-write port", DefaultValueFactory = _ => 5000 };
        var ro = new Option<int>("--ro-port") { Description = "Read-only port", DefaultValueFactory = _ => 5001 };
        var stats = new Option<int>("--stats-port") { Description = "Stats page port", DefaultValueFactory = _ => 7000 };
        var command = new Command("haproxy-config", "Print an haproxy.cfg (read-write, read-only, stats) for the cluster's members in the DCS")
        {
            cluster, CtlCommands.ConfigFile, CtlCommands.DcsUrl, bind, rw, ro, stats,
        };
        command.SetAction(async (parse, ct) =>
        {
            foreach (var (option, value) in new[] { (rw, parse.GetValue(rw)), (ro, parse.GetValue(ro)), (stats, parse.GetValue(stats)) })
                if (value is < 1 or > 65535)
                {
                    Console.Error.WriteLine($"Error: {option.Name} {value} is not a TCP port (1 to 65535)");
                    return 1;
                }
            return await CtlCommands.WithDcsAsync(parse, cluster, async (dcs, name) =>
            {
                var view = await dcs.GetClusterAsync(ct);
                var backends = HaproxyConfig.FromMembers(view.Members);
                if (backends.Count == 0)
                {
                    Console.Error.WriteLine($"Error: cluster '{name}' has no members with a conn_url and api_url in the DCS; are its agents running?");
                    return 1;
                }
                Console.Write($"# haproxy.cfg for cluster {name}, members {string.Join(", ", backends.Select(b => b.Name))} (pgwarden haproxy-config)\n");
                Console.Write(HaproxyConfig.Render(backends, parse.GetValue(bind)!, parse.GetValue(rw), parse.GetValue(ro), parse.GetValue(stats)));
                return 0;
            }, ct);
        });
        return command;
    }
}
