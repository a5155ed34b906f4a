using System.CommandLine;

namespace PgWarden.Lab;

/// <summary>`pgwarden lab ...`: a whole HA cluster on this machine.</summary>
public static class LabCommand
{
    public static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "Where the lab keeps configs, data and logs", DefaultValueFactory = _ => LabRunner.DefaultDir, Recursive = true };
        var lab = new Command("lab", "A local HA cluster: etcd, N PostgreSQL nodes with agents, HAProxy") { dir };

        var nodes = new Option<int>("--nodes") { Description = "Number of PostgreSQL nodes", DefaultValueFactory = _ => 3 };
        var ttl = new Option<int>("--ttl") { DefaultValueFactory = _ => 10, Description = "Leader lock TTL, seconds" };
        var loopWait = new Option<int>("--loop-wait") { DefaultValueFactory = _ => 2, Description = "HA loop interval, seconds" };
        var retry = new Option<int>("--retry-timeout") { DefaultValueFactory = _ => 3, Description = "DCS and PostgreSQL retry budget, seconds" };
        var up = new Command("up", "Start etcd, the nodes and HAProxy, wait until every replica streams, and show the cluster") { nodes, ttl, loopWait, retry };
        up.SetAction(async (p, ct) =>
        {
            var n = p.GetValue(nodes);
            if (n is < 1 or > 9) { Console.Error.WriteLine($"Error: --nodes {n} is out of range (1 to 9)"); return 2; }
            return await new LabRunner(Console.Out).UpAsync(new LabRunner.UpOptions(p.GetValue(dir)!, n, p.GetValue(ttl), p.GetValue(loopWait), p.GetValue(retry)), ct);
        });
        lab.Subcommands.Add(up);

        var status = new Command("status", "Show the lab's processes and the cluster");
        status.SetAction(async (p, ct) => await new LabRunner(Console.Out).StatusAsync(p.GetValue(dir)!, ct));
        lab.Subcommands.Add(status);

        var node = new Argument<string>("node") { Description = "node1, node2, ..." };
        var stop = new Command("stop", "Stop one node's agent (it stops PostgreSQL cleanly)") { node };
        stop.SetAction(async (p, ct) => await new LabRunner(Console.Out).StopNodeAsync(p.GetValue(dir)!, p.GetValue(node)!, kill: false, ct));
        lab.Subcommands.Add(stop);
        var kill = new Command("kill", "kill -9 one node's agent and postmaster") { node };
        kill.SetAction(async (p, ct) => await new LabRunner(Console.Out).StopNodeAsync(p.GetValue(dir)!, p.GetValue(node)!, kill: true, ct));
        lab.Subcommands.Add(kill);
        var start = new Command("start", "Start a stopped node's agent again") { node };
        start.SetAction(p => new LabRunner(Console.Out).StartNode(p.GetValue(dir)!, p.GetValue(node)!));
        lab.Subcommands.Add(start);

        var keep = new Option<bool>("--keep-data") { Description = "Keep the lab's directory (data, configs, logs)" };
        var down = new Command("down", "Stop every process the lab started") { keep };
        down.SetAction(async (p, ct) => await new LabRunner(Console.Out).DownAsync(p.GetValue(dir)!, p.GetValue(keep), ct));
        lab.Subcommands.Add(down);
        return lab;
    }
}
