using System.Globalization;
using System.Text;

namespace PgWarden.Lab;

/// <summary>
/// How to run Debian's ZooKeeper 3.8 (package zookeeper) in the foreground with a configuration of our own, never
/// the system service: a zoo.cfg per server (own dataDir, client port on its own address, quorum and election
/// ports for an ensemble) and the java command line. Used by the integration tests and the lab.
/// </summary>
public sealed record ZooKeeperServerSpec(IReadOnlyList<string> Addresses, string DataRoot)
{
    public const string Jar = "/usr/share/java/zookeeper.jar";
    public int ClientPort { get; init; } = 2181;
    public int QuorumPort { get; init; } = 2888;
    public int ElectionPort { get; init; } = 3888;
    /// <summary>ms; sessions may last 2..20 ticks (here 2 s .. 60 s via maxSessionTimeout).</summary>
    public int TickTime { get; init; } = 1000;

    public bool Installed => File.Exists(Jar);

    /// <summary>"address:2181" of each server (what a zookeeper: hosts entry lists).</summary>
    public IReadOnlyList<string> Hosts => Addresses.Select(a => $"{a}:{ClientPort}").ToList();

    public string DataDir(int index) => Path.Combine(DataRoot, $"zk{index + 1}");

    public string ConfigPath(int index) => Path.Combine(DataDir(index), "zoo.cfg");

    public string ZooCfg(int index)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"tickTime={TickTime}\ninitLimit=10\nsyncLimit=5\n");
        sb.Append(inv, $"dataDir={DataDir(index)}\nclientPort={ClientPort}\nclientPortAddress={Addresses[index]}\n");
        sb.Append("maxSessionTimeout=60000\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,mntr\n");
        if (Addresses.Count > 1)
        {
            sb.Append("quorumListenOnAllIPs=false\n");
            for (var i = 0; i < Addresses.Count; i++) sb.Append(inv, $"server.{i + 1}={Addresses[i]}:{QuorumPort}:{ElectionPort}\n");
        }
        return sb.ToString();
    }

    /// <summary>Writes zoo.cfg (and myid for an ensemble) of one server; returns the command that runs it in the foreground.</summary>
    public IReadOnlyList<string> Prepare(int index)
    {
        Directory.CreateDirectory(DataDir(index));
        File.WriteAllText(ConfigPath(index), ZooCfg(index));
        if (Addresses.Count > 1) File.WriteAllText(Path.Combine(DataDir(index), "myid"), (index + 1).ToString(CultureInfo.InvariantCulture) + "\n");
        return
        [
            "java", "-Xmx256m", "-XX:+UseSerialGC", "-Dzookeeper.log.dir=" + DataDir(index), "-Dzookeeper.jmx.log4j.disable=true",
            "-cp", "/etc/zookeeper/conf:" + Jar, "org.apache.zookeeper.server.quorum.QuorumPeerMain", ConfigPath(index),
        ];
    }
}
