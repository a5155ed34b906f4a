using System.Text.Json.Nodes;
using PgWarden.Ctl;
using PgWarden.Dcs;
using PgWarden.Tests.Api;

namespace PgWarden.Tests.Ctl;

public class QueryAndDsnTests
{
    private static ClusterView View => RecordedNodes.View(leader: "node2");

    [Theory]
    [InlineData(null, null, "node2")]
    [InlineData("leader", null, "node2")]
    [InlineData("primary", null, "node2")]
    [InlineData("master", null, "node2")]
    [InlineData("standby-leader", null, "")]
    [InlineData("replica", null, "node1,node3")]
    [InlineData("standby", null, "node1,node3")]
    [InlineData("any", null, "node1,node2,node3")]
    [InlineData(null, "node3", "node3")]
    [InlineData(null, "node9", "")]
    public void Candidates_follow_patronictls_roles(string? role, string? member, string expected) =>
        Assert.Equal(expected, string.Join(',', MemberSelector.Candidates(View, role, member).Select(m => m.Name)));

    [Fact]
    public void A_standby_cluster_leader_is_a_standby_leader_not_a_primary()
    {
        var view = View with { Members = [RecordedNodes.MemberOf("node2", "standby_leader", 1), RecordedNodes.MemberOf("node1", "replica", 1)] };
        Assert.Empty(MemberSelector.Candidates(view, "primary", null));
        Assert.Equal("node2", Assert.Single(MemberSelector.Candidates(view, "standby-leader", null)).Name);
    }

    [Fact]
    public void Without_a_leader_leader_roles_find_nobody()
    {
        var view = View with { Leader = null };
        Assert.Empty(MemberSelector.Candidates(view, null, null));
        Assert.Equal(3, MemberSelector.Candidates(view, "replica", null).Count);
    }

    [Theory]
    [InlineData("replica", "node1", "--role and --member are mutually exclusive options")]
    [InlineData("writer", null, "--role 'writer' is not one of leader, primary, standby-leader, replica, standby, any, master")]
    public void Bad_arguments_are_named(string? role, string? member, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => MemberSelector.Candidates(View, role, member)).Message);

    [Theory]
    [InlineData("replica", null, true)]
    [InlineData("standby-leader", null, true)]
    [InlineData("primary", null, false)]
    [InlineData("leader", null, null)]
    [InlineData("any", null, null)]
    [InlineData(null, "node1", null)]
    public void Recovery_is_checked_for_role_queries_as_patronictl_does(string? role, string? member, bool? expected) =>
        Assert.Equal(expected, MemberSelector.RequiredRecovery(role, member));

    [Fact]
    public void Dsn_of_a_member_is_patronictls_host_port_line() =>
        Assert.Equal("host=127.0.0.13 port=5432", Dsn.ForMember(View.FindMember("node3")!));

    [Fact]
    public void Multi_host_strings_put_the_leader_first()
    {
        Assert.Equal("host=127.0.0.12,127.0.0.11,127.0.0.13 port=5432,5432,5432 target_session_attrs=read-write", Dsn.MultiHost(View, "read-write"));
        Assert.Equal("host=127.0.0.12,127.0.0.11,127.0.0.13 port=5432,5432,5432 target_session_attrs=prefer-standby", Dsn.MultiHost(View, "prefer-standby"));
        Assert.Throws<ArgumentException>(() => Dsn.MultiHost(View with { Members = [] }, "read-write"));
    }

    [Fact]
    public void Query_results_print_as_patronictl_tsv_with_python_value_spelling()
    {
        JsonNode?[] row = [QueryCommands.ToNode(1), QueryCommands.ToNode(true), QueryCommands.ToNode(null), QueryCommands.ToNode("x y"), QueryCommands.ToNode(1.5m)];
        Assert.Equal("a\tb\tc\td\te\n1\tTrue\tNone\tx y\t1.5\n", QueryCommands.Render(["a", "b", "c", "d", "e"], [row], "tsv", "\t"));
        Assert.Equal("a;b\n1;True\n", QueryCommands.Render(["a", "b"], [[QueryCommands.ToNode(1L), QueryCommands.ToNode(true)]], "tsv", ";"));
        Assert.Equal("[{\"a\": 1, \"b\": null}]\n", QueryCommands.Render(["a", "b"], [[QueryCommands.ToNode(1), null]], "json", "\t"));
    }
}
