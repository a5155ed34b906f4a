using PgWarden.Lab;
using static PgWarden.Lab.LabPartitionRules;

namespace PgWarden.Tests.Lab;

public sealed class LabPartitionRulesTests
{
    private static readonly NodeTarget Node2 = new("node2", 991, "127.0.3.12", [5432, 8008]);
    private static readonly NodeTarget Node1 = new("node1", 992, "127.0.3.11", [5432, 8008]);
    private static readonly NodeTarget Node3 = new("node3", 990, "127.0.3.13", [5432, 8008]);
    private static readonly Endpoint Etcd = new("127.0.3.10", 2379);

    private const string Ss = """
        0      0               127.0.0.1:35204          127.0.3.10:2379  timer:(keepalive,4.656ms,0) ino:342336 sk:103d cgroup:/ <->
        0      0      [::ffff:127.0.0.1]:35238 [::ffff:127.0.3.10]:2379  uid:991 ino:342475 sk:1056 cgroup:/ <->
        0      6352           127.0.3.10:2379            127.0.0.1:35238 timer:(on,31sec,8) ino:343203 sk:104e cgroup:/ <->
        0      0      [::ffff:127.0.0.1]:35278 [::ffff:127.0.3.10]:2379  uid:992 ino:342488 sk:1058 cgroup:/ <->
        0      0               127.0.0.1:40000          127.0.3.12:5432  uid:992 ino:1 sk:1 cgroup:/ <->
        0      0              127.0.3.12:5432            127.0.0.1:40000 uid:991 ino:2 sk:2 cgroup:/ <->
        0      0               127.0.0.1:40002          127.0.3.12:5432  uid:998 ino:3 sk:3 cgroup:/ <->
        0      0              127.0.3.12:5432            127.0.0.1:40002 uid:991 ino:4 sk:4 cgroup:/ <->
        0      0               127.0.0.1:40004          127.0.3.13:8008  uid:991 ino:5 sk:5 cgroup:/ <->
        """;

    [Fact]
    public void Ss_lines_give_ipv4_endpoints_and_owners()
    {
        var sockets = ParseSs(Ss);
        Assert.Equal(9, sockets.Count);
        Assert.Equal(new Socket(new Endpoint("127.0.0.1", 35238), Etcd, 991), sockets[1]);
        Assert.Null(sockets[0].Uid);
    }

    [Fact]
    public void From_etcd_blocks_new_connections_by_owner_and_existing_ones_by_port_both_ways()
    {
        var rules = Build(Node2, [Node1, Node3], [Etcd], "etcd", ParseSs(Ss)).Select(r => string.Join(' ', r)).ToList();
        Assert.Equal(
        [
            "-p tcp -m owner --uid-owner 991 -d 127.0.3.10 --dport 2379",
            "-p tcp -s 127.0.0.1 --sport 35238 -d 127.0.3.10 --dport 2379",
            "-p tcp -s 127.0.3.10 --sport 2379 -d 127.0.0.1 --dport 35238",
        ], rules);
    }

    [Fact]
    public void From_peers_cuts_both_directions_between_node_users_but_not_other_clients()
    {
        var rules = Build(Node2, [Node1, Node3], [Etcd], "peers", ParseSs(Ss)).Select(r => string.Join(' ', r)).ToList();
        Assert.Contains("-p tcp -m owner --uid-owner 991 -d 127.0.3.11 -m multiport --dports 5432,8008", rules);
        Assert.Contains("-p tcp -m owner --uid-owner 992 -d 127.0.3.12 -m multiport --dports 5432,8008", rules);
        Assert.Contains("-p tcp -m owner --uid-owner 990 -d 127.0.3.12 -m multiport --dports 5432,8008", rules);
        // node1's replication connection to node2 (existing), both directions
        Assert.Contains("-p tcp -s 127.0.0.1 --sport 40000 -d 127.0.3.12 --dport 5432", rules);
        Assert.Contains("-p tcp -s 127.0.3.12 --sport 5432 -d 127.0.0.1 --dport 40000", rules);
        // node2's own connection to node3's REST API
        Assert.Contains("-p tcp -s 127.0.0.1 --sport 40004 -d 127.0.3.13 --dport 8008", rules);
        // a client that is no node (uid 998, e.g. HAProxy or an application) keeps its connection; etcd is untouched
        Assert.DoesNotContain(rules, r => r.Contains("40002", StringComparison.Ordinal) || r.Contains("2379", StringComparison.Ordinal));
    }

    [Fact]
    public void All_is_etcd_plus_peers()
    {
        var sockets = ParseSs(Ss);
        var all = Build(Node2, [Node1, Node3], [Etcd], "all", sockets).Select(r => string.Join(' ', r)).ToHashSet();
        var parts = Build(Node2, [Node1, Node3], [Etcd], "etcd", sockets).Concat(Build(Node2, [Node1, Node3], [Etcd], "peers", sockets))
            .Select(r => string.Join(' ', r)).ToHashSet();
        Assert.True(all.SetEquals(parts));
    }
}

public sealed class LabAddressingTests
{
    [Fact]
    public void Addresses_and_users_follow_net_and_prefix()
    {
        var a = new LabAddressing("127.0.3", "pg3", 3);
        Assert.Equal("127.0.3.10", a.FrontAddress);
        Assert.Equal("127.0.3.12", a.NodeAddress(2));
        Assert.Equal("pg3node2", a.NodeUser(2));
        Assert.Equal(["127.0.3.7", "127.0.3.8", "127.0.3.9"], a.EtcdAddresses);
        Assert.Equal(["127.0.3.10"], (a with { EtcdMembers = 1 }).EtcdAddresses);
        Assert.Equal("/var/tmp/pgwarden-lab", LabAddressing.DefaultDir("127.0.0"));
        Assert.Equal("/var/tmp/pgwarden-lab-127.0.3", LabAddressing.DefaultDir("127.0.3"));
    }

    [Theory]
    [InlineData("127.0.3", true)]
    [InlineData("127.0.0", true)]
    [InlineData("10.0.0", false)]
    [InlineData("127.0.300", false)]
    [InlineData("127.0", false)]
    public void Net_must_be_three_loopback_octets(string net, bool valid) => Assert.Equal(valid, LabAddressing.ValidateNet(net) is null);

    [Theory]
    [InlineData("pg3", true)]
    [InlineData("Pg", false)]
    [InlineData("3pg", false)]
    [InlineData("pg-x", false)]
    public void User_prefix_is_lowercase_alphanumeric(string prefix, bool valid) => Assert.Equal(valid, LabAddressing.ValidateUserPrefix(prefix) is null);

    [Fact]
    public void Firewall_tag_is_stable_per_directory_and_differs_between_directories()
    {
        Assert.Equal(LabAddressing.FirewallTag("/var/tmp/x"), LabAddressing.FirewallTag("/var/tmp/x/"));
        Assert.NotEqual(LabAddressing.FirewallTag("/var/tmp/x"), LabAddressing.FirewallTag("/var/tmp/y"));
        Assert.Matches("^pgwarden-lab-[0-9a-f]{8}$", LabAddressing.FirewallTag("/var/tmp/x"));
    }
}
