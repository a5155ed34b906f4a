using System.Globalization;

namespace PgWarden.Lab;

/// <summary>
/// Which iptables rules cut one lab node off from etcd, from its peers, or from both. Pure: the caller passes the
/// node, its peers and the TCP connections that exist right now, and gets the match part of each DROP rule
/// (OUTPUT chain; the caller adds the tag and the target).
/// On loopback every connection's source address is 127.0.0.1, so a node is told apart by its OS user:
/// new connections it opens are matched by `-m owner --uid-owner`, traffic to it by its own address and ports
/// plus the peer's owner. Connections that already exist are matched by their exact address:port pairs in both
/// directions, because an owner match misses packets of sockets that have lost their owner (closed, orphaned,
/// retransmitting) and packets the kernel sends on behalf of the other end.
/// </summary>
public static class LabPartitionRules
{
    public sealed record Endpoint(string Address, int Port)
    {
        public override string ToString() => $"{Address}:{Port.ToString(CultureInfo.InvariantCulture)}";

        public static Endpoint Parse(string text)
        {
            var colon = text.LastIndexOf(':');
            // .NET's dual-stack sockets show up as [::ffff:127.0.0.1]:port; on the wire (and to iptables) they are IPv4.
            var address = text[..colon].Trim('[', ']');
            if (address.StartsWith("::ffff:", StringComparison.OrdinalIgnoreCase)) address = address[7..];
            return new Endpoint(address, int.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
        }
    }

    /// <summary>One established TCP socket as `ss -tnHe` shows it; Uid is null when ss shows none (root or orphaned).</summary>
    public sealed record Socket(Endpoint Local, Endpoint Peer, int? Uid);

    public sealed record NodeTarget(string Name, int Uid, string Address, IReadOnlyList<int> Ports);

    public static readonly string[] Kinds = ["etcd", "peers", "all"];

    public static List<List<string>> Build(NodeTarget node, IReadOnlyList<NodeTarget> peers, IReadOnlyList<Endpoint> etcd, string from, IReadOnlyList<Socket> sockets)
    {
        var rules = new List<List<string>>();
        var uid = node.Uid.ToString(CultureInfo.InvariantCulture);
        var cut = new HashSet<(Endpoint, Endpoint)>();
        if (from is "etcd" or "all")
        {
            foreach (var e in etcd)
                rules.Add(["-p", "tcp", "-m", "owner", "--uid-owner", uid, "-d", e.Address, "--dport", Port(e.Port)]);
            foreach (var s in sockets.Where(s => s.Uid == node.Uid && etcd.Contains(s.Peer)))
                cut.Add((s.Local, s.Peer));
        }
        if (from is "peers" or "all")
        {
            var ports = string.Join(',', node.Ports.Select(Port));
            foreach (var p in peers)
            {
                var peerUid = p.Uid.ToString(CultureInfo.InvariantCulture);
                rules.Add(["-p", "tcp", "-m", "owner", "--uid-owner", uid, "-d", p.Address, "-m", "multiport", "--dports", string.Join(',', p.Ports.Select(Port))]);
                rules.Add(["-p", "tcp", "-m", "owner", "--uid-owner", peerUid, "-d", node.Address, "-m", "multiport", "--dports", ports]);
            }
            var owners = sockets.Where(s => s.Uid is not null).ToDictionary(s => (s.Local, s.Peer), s => s.Uid);
            bool OwnedBy(Endpoint local, Endpoint peer, IEnumerable<NodeTarget> who) =>
                owners.TryGetValue((local, peer), out var u) && who.Any(w => w.Uid == u);
            foreach (var s in sockets)
            {
                // The node opened it to a peer's PostgreSQL or REST API.
                if (s.Uid == node.Uid && peers.Any(p => p.Address == s.Peer.Address && p.Ports.Contains(s.Peer.Port))) cut.Add((s.Local, s.Peer));
                // A peer opened it to the node's PostgreSQL or REST API.
                if (s.Local.Address == node.Address && node.Ports.Contains(s.Local.Port) && OwnedBy(s.Peer, s.Local, peers)) cut.Add((s.Peer, s.Local));
            }
        }
        foreach (var (local, peer) in cut.OrderBy(c => c.Item1.ToString(), StringComparer.Ordinal))
        {
            rules.Add(["-p", "tcp", "-s", local.Address, "--sport", Port(local.Port), "-d", peer.Address, "--dport", Port(peer.Port)]);
            rules.Add(["-p", "tcp", "-s", peer.Address, "--sport", Port(peer.Port), "-d", local.Address, "--dport", Port(local.Port)]);
        }
        return rules;
    }

    /// <summary>Parses `ss -tnHe state established` (columns Recv-Q Send-Q Local Peer, then extras such as uid:N).</summary>
    public static List<Socket> ParseSs(string output)
    {
        var sockets = new List<Socket>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || !f[2].Contains(':') || !f[3].Contains(':')) continue;
            int? uid = null;
            foreach (var x in f.Skip(4))
                if (x.StartsWith("uid:", StringComparison.Ordinal) && int.TryParse(x[4..], CultureInfo.InvariantCulture, out var u)) uid = u;
            try { sockets.Add(new Socket(Endpoint.Parse(f[2]), Endpoint.Parse(f[3]), uid)); }
            catch (FormatException) { }
        }
        return sockets;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
