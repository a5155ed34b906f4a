using PgWarden.Ctl;
using PgWarden.Dcs;
using PgWarden.Dcs.ZooKeeper;

namespace PgWarden.Tests.Dcs;

/// <summary>ZooKeeper's Jute framing, against bytes worked out by hand from the .jute record definitions.</summary>
public sealed class ZooKeeperJuteTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public void Connect_request_is_length_prefixed_with_zero_password_and_readonly_flag()
    {
        var w = new JuteWriter();
        ZkRequests.Connect(w, lastZxid: 0, timeoutMs: 10_000, sessionId: 0, password: new byte[16]);
        // 45 bytes: protocolVersion, lastZxidSeen, timeOut 0x2710, sessionId, passwd (len 16 + zeros), readOnly.
        Assert.Equal(Hex("0000002d 00000000 0000000000000000 00002710 0000000000000000 00000010 00000000000000000000000000000000 00"), w.ToFrame());
    }

    [Fact]
    public void Create_request_carries_path_data_open_acl_and_mode()
    {
        var w = new JuteWriter().WriteInt(1).WriteInt(ZkOp.Create);
        ZkRequests.Create(w, "/a", "x"u8.ToArray(), ZkCreateMode.Ephemeral);
        Assert.Equal(Hex(
            "00000001 00000001" +                 // xid 1, op create
            "00000002 2f61" +                     // path "/a"
            "00000001 78" +                       // data "x"
            "00000001 0000001f" +                 // one ACL, perms ALL
            "00000005 776f726c64 00000006 616e796f6e65" + // world:anyone
            "00000001"), w.ToArray());           // ephemeral
    }

    [Fact]
    public void SetData_and_delete_carry_the_expected_version()
    {
        var w = new JuteWriter();
        ZkRequests.SetData(w, "/c", "{}"u8.ToArray(), 7);
        Assert.Equal(Hex("00000002 2f63 00000002 7b7d 00000007"), w.ToArray());
        w = new JuteWriter();
        ZkRequests.PathVersion(w, "/c", -1);
        Assert.Equal(Hex("00000002 2f63 ffffffff"), w.ToArray());
        w = new JuteWriter();
        ZkRequests.PathWatch(w, "/c", true);
        Assert.Equal(Hex("00000002 2f63 01"), w.ToArray());
    }

    [Fact]
    public void Multi_request_wraps_each_op_in_a_header_and_ends_with_done()
    {
        var w = new JuteWriter();
        ZkRequests.Multi(w, [new ZkOperation.Delete("/l", 3), new ZkOperation.Check("/l", 4)]);
        Assert.Equal(Hex(
            "00000002 00 ffffffff 00000002 2f6c 00000003" +
            "0000000d 00 ffffffff 00000002 2f6c 00000004" +
            "ffffffff 01 ffffffff"), w.ToArray());
    }

    [Fact]
    public void Multi_response_reports_the_failing_operation()
    {
        var reply = Hex(
            "ffffffff 00 00000000 00000000" +          // first op rolled back: error result 0
            "ffffffff 00 ffffff99 ffffff99" +          // second op failed: BadVersion (-103)
            "ffffffff 01 ffffffff");
        var results = ZkRequests.ReadMultiResponse(new JuteReader(reply));
        Assert.Equal([ZkError.Ok, ZkError.BadVersion], results.Select(r => r.Error));

        var ok = Hex("00000001 00 00000000 00000002 2f6c  00000002 00 00000000  ffffffff 01 ffffffff");
        Assert.Equal([ZkError.Ok, ZkError.Ok], ZkRequests.ReadMultiResponse(new JuteReader(ok)).Select(r => r.Error));
    }

    [Fact]
    public void Stat_is_read_field_by_field()
    {
        var bytes = Hex(
            "0000000000000011 0000000000000022 0000018000000000 0000018000000001" + // czxid, mzxid, ctime, mtime
            "00000005 00000000 00000000" +                                           // version, cversion, aversion
            "0100000000000abc 00000004 00000000 0000000000000033");                  // ephemeralOwner, dataLength, numChildren, pzxid
        var stat = new JuteReader(bytes).ReadStat();
        Assert.Equal(0x11, stat.Czxid);
        Assert.Equal(0x22, stat.Mzxid);
        Assert.Equal(5, stat.Version);
        Assert.Equal(0x0100000000000abcL, stat.EphemeralOwner);
        Assert.Equal(4, stat.DataLength);
        Assert.Equal(0x33, stat.Pzxid);
    }

    [Fact]
    public void Connect_response_without_readonly_flag_and_watch_events_parse()
    {
        var response = ZkRequests.ReadConnectResponse(new JuteReader(Hex("00000000 00002710 0100000000000abc 00000002 abcd")));
        Assert.Equal((10_000, 0x0100000000000abcL), (response.TimeoutMs, response.SessionId));
        Assert.Equal(new byte[] { 0xab, 0xcd }, response.Password);

        var e = ZkRequests.ReadWatchEvent(new JuteReader(Hex("00000002 00000003 00000002 2f6c")));
        Assert.Equal(new ZkWatchEvent(ZkEventType.NodeDeleted, 3, "/l"), e);
    }

    [Fact]
    public void A_short_packet_is_a_protocol_error_naming_the_offset()
    {
        var e = Assert.Throws<DcsException>(() => new JuteReader(Hex("000000")).ReadInt());
        Assert.Equal(DcsErrorKind.Protocol, e.Kind);
        Assert.Contains("need 4 bytes at offset 0 of 3", e.Message);
        Assert.Null(new JuteReader(Hex("ffffffff")).ReadString());
    }

    [Theory]
    [InlineData("zk1", "zk1:2181")]
    [InlineData("zk1:2200", "zk1:2200")]
    [InlineData("[::1]", "[::1]:2181")]
    public void Hosts_get_the_default_port(string host, string expected) =>
        Assert.Equal(expected, ZooKeeperClient.HostPortWithDefault(host));

    [Theory]
    [InlineData("zookeeper://127.0.5.51", DcsKind.ZooKeeper, "127.0.5.51:2181", "/service/")]
    [InlineData("etcd://127.0.5.5:2379/ns", DcsKind.Etcd, "127.0.5.5:2379", "/ns/")]
    [InlineData("127.0.5.5", DcsKind.Etcd3, "127.0.5.5:2379", "/service/")]
    public void Dcs_url_names_the_store(string url, DcsKind kind, string host, string ns)
    {
        var (k, hosts, n) = CtlContext.ParseDcsUrl(url, "/service/");
        Assert.Equal((kind, host, ns), (k, hosts.Single(), n));
    }
}
