using System.CommandLine;

namespace PgWarden.Lab;

/// <summary>`pgwarden lab ...`: a whole HA cluster on this machine.</summary>
public static class LabCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = $"Where the lab keeps configs, data and logs (default {LabRunner.DefaultDir}, or {LabRunner.DefaultDir}-NET with --net)", Recursive = true };
        var net = new Option<string>("--net") { Description = "Loopback /24 of the lab: HAProxy and etcd on NET.10, nodes on NET.11.., 3 etcd members on NET.7-9", DefaultValueFactory = _ => LabAddressing.DefaultNet, Recursive = true };
        var lab = new Command("lab", "A local HA cluster: etcd, N PostgreSQL nodes with agents, HAProxy") { dir, net };
        string Dir(ParseResult p) => p.GetValue(dir) ?? LabAddressing.DefaultDir(p.GetValue(net)!);

        var nodes = new Option<int>("--nodes") { Description = "Number of PostgreSQL nodes", DefaultValueFactory = _ => 3 };
        var userPrefix = new Option<string>("--user-prefix") { Description = "OS users of the nodes are PREFIXnode1..", DefaultValueFactory = _ => LabAddressing.DefaultUserPrefix };
        var etcdMembers = new Option<int>("--etcd-members") { Description = "1 or 3 DCS servers (etcd members, or ZooKeeper servers with --dcs zookeeper)", DefaultValueFactory = _ => 1 };
        var dcs = new Option<string>("--dcs") { Description = "The DCS the nodes use: etcd3 (default), etcd (v2 API) or zookeeper", DefaultValueFactory = _ => "etcd3" };
        dcs.AcceptOnlyFromAmong("etcd3", "etcd", "zookeeper");
        var ttl = new Option<int>("--ttl") { DefaultValueFactory = _ => 10, Description = "Leader lock TTL, seconds" };
        var loopWait = new Option<int>("--loop-wait") { DefaultValueFactory = _ => 2, Description = "HA loop interval, seconds" };
        var retry = new Option<int>("--retry-timeout") { DefaultValueFactory = _ => 3, Description = "DCS and PostgreSQL retry budget, seconds" };
        var up = new Command("up", "Start etcd, the nodes and HAProxy, wait until every replica streams, and show the cluster") { nodes, userPrefix, etcdMembers, dcs, ttl, loopWait, retry };
        up.SetAction(async (p, ct) =>
        {
            var n = p.GetValue(nodes);
            var error = n is < 1 or > 9 ? $"--nodes {n} is out of range (1 to 9)"
                : LabAddressing.ValidateNet(p.GetValue(net)!) ?? LabAddressing.ValidateUserPrefix(p.GetValue(userPrefix)!)
                ?? (p.GetValue(etcdMembers) is 1 or 3 ? null : $"--etcd-members {p.GetValue(etcdMembers)} is not 1 or 3")
                ?? (p.GetValue(ttl) > 0 && p.GetValue(loopWait) > 0 && p.GetValue(retry) > 0 ? null : "--ttl, --loop-wait and --retry-timeout must be positive");
            if (error is not null) { Console.Error.WriteLine($"Error: {error}"); return 2; }
            var addressing = new LabAddressing(p.GetValue(net)!, p.GetValue(userPrefix)!, p.GetValue(etcdMembers));
            return await new LabRunner(Console.Out).UpAsync(new LabRunner.UpOptions(Dir(p), n, p.GetValue(ttl), p.GetValue(loopWait), p.GetValue(retry), addressing,
                Dcs: Dcs.DcsKinds.Parse(p.GetValue(dcs)!)), ct);
        });
        lab.Subcommands.Add(up);

        var status = new Command("status", "Show the lab's processes, partitions and the cluster");
        status.SetAction(async (p, ct) => await new LabRunner(Console.Out).StatusAsync(Dir(p), ct));
        lab.Subcommands.Add(status);

        var node = new Argument<string>("node") { Description = "node1, node2, ..." };
        var stop = new Command("stop", "Stop one node's agent (it stops PostgreSQL cleanly)") { node };
        stop.SetAction(async (p, ct) => await new LabRunner(Console.Out).StopNodeAsync(Dir(p), p.GetValue(node)!, kill: false, ct));
        lab.Subcommands.Add(stop);
        var kill = new Command("kill", "kill -9 one node's agent and postmaster") { node };
        kill.SetAction(async (p, ct) => await new LabRunner(Console.Out).StopNodeAsync(Dir(p), p.GetValue(node)!, kill: true, ct));
        lab.Subcommands.Add(kill);
        var start = new Command("start", "Start a stopped node's agent again") { node };
        start.SetAction(p => new LabRunner(Console.Out).StartNode(Dir(p), p.GetValue(node)!));
        lab.Subcommands.Add(start);

        var from = new Option<string>("--from") { Description = "etcd: the node loses etcd; peers: the node and the other nodes lose each other's PostgreSQL and REST API; all: both", DefaultValueFactory = _ => "all" };
        from.AcceptOnlyFromAmong(LabPartitionRules.Kinds);
        var partition = new Command("partition", "Cut one node off with iptables rules matching its OS user (undo with `lab heal`)") { node, from };
        partition.SetAction(p => new LabRunner(Console.Out).Partition(Dir(p), p.GetValue(node)!, p.GetValue(from)!));
        lab.Subcommands.Add(partition);
        var heal = new Command("heal", "Remove every iptables rule the lab added");
        heal.SetAction(p => new LabRunner(Console.Out).Heal(Dir(p)));
        lab.Subcommands.Add(heal);

        var demo = new Command("demo", "Walk through the HA scenario against the running lab: writes, replication, switchover, failover, configuration, read scaling");
        demo.SetAction(async (p, ct) => await new LabDemo(Console.Out).RunAsync(Dir(p), ct));
        lab.Subcommands.Add(demo);

        var keep = new Option<bool>("--keep-data") { Description = "Keep the lab's directory (data, configs, logs)" };
        var down = new Command("down", "Stop every process the lab started and remove its iptables rules") { keep };
        down.SetAction(async (p, ct) => await new LabRunner(Console.Out).DownAsync(Dir(p), p.GetValue(keep), ct));
        lab.Subcommands.Add(down);
        return lab;
    }
}
