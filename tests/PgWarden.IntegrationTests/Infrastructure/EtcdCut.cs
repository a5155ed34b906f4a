using System.Text.RegularExpressions;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// Makes etcd unreachable for one node only: new connections of its OS user to etcd are dropped (iptables owner
/// match), and so are the packets of its existing etcd connections in both directions (by local port). Every rule
/// carries a comment tag and is removed in Dispose, also when the test failed.
/// </summary>
public sealed partial class EtcdCut : IDisposable
{
    public static string Tag => $"pgwarden-{AgentCluster.UserPrefix}-failover";
    private readonly List<string[]> _rules = [];

    public IReadOnlyList<int> CutPorts { get; }

    public EtcdCut(ClusterNode node, string etcdAddress, int etcdPort = 2379)
    {
        var uid = OsUser.Run("id", "-u", node.OsUserName).Trim();
        Add("OUTPUT", "-d", etcdAddress, "-p", "tcp", "--dport", etcdPort.ToString(), "-m", "owner", "--uid-owner", uid);
        var ports = new List<int>();
        var pid = node.Agent?.Pid ?? 0;
        var (_, ss) = OsUser.Run(false, "ss", "-tnpH", "dst", $"{etcdAddress}:{etcdPort}");
        foreach (var line in ss.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.Contains($"pid={pid},", StringComparison.Ordinal)) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var local = fields.Length > 3 ? fields[3] : "";
            if (PortPattern().Match(local) is { Success: true } m) ports.Add(int.Parse(m.Groups[1].Value));
        }
        foreach (var port in ports.Distinct())
        {
            Add("OUTPUT", "-p", "tcp", "--sport", port.ToString(), "-d", etcdAddress, "--dport", etcdPort.ToString());
            Add("INPUT", "-p", "tcp", "-s", etcdAddress, "--sport", etcdPort.ToString(), "--dport", port.ToString());
        }
        CutPorts = ports;
    }

    private void Add(string chain, params string[] match)
    {
        string[] rule = [chain, .. match, "-m", "comment", "--comment", Tag, "-j", "DROP"];
        OsUser.Run(["iptables", "-I", .. rule]);
        _rules.Add(rule);
    }

    public void Dispose()
    {
        foreach (var rule in _rules) OsUser.Run(false, ["iptables", "-D", .. rule]);
        _rules.Clear();
        RemoveLeftovers();
    }

    /// <summary>Rules with our tag left by an earlier crashed run.</summary>
    public static void RemoveLeftovers()
    {
        var (_, rules) = OsUser.Run(false, "iptables", "-S");
        foreach (var line in rules.Split('\n').Where(l => l.Contains(Tag, StringComparison.Ordinal) && l.StartsWith("-A ", StringComparison.Ordinal)))
        {
            var args = SplitArgs(line[3..]);
            OsUser.Run(false, ["iptables", "-D", .. args]);
        }
    }

    private static string[] SplitArgs(string s) => [.. ArgPattern().Matches(s).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Value)];

    [GeneratedRegex(@":(\d+)$")]
    private static partial Regex PortPattern();

    [GeneratedRegex("\"([^\"]*)\"|\\S+")]
    private static partial Regex ArgPattern();
}
