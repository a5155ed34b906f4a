using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public class SlotNamesTests
{
    [Theory]
    [InlineData("node1", "node1")]
    [InlineData("Node-1.example", "node_1_example")]
    [InlineData("a b", "au0032b")]
    [InlineData("x@y", "xu0064y")]
    [InlineData("é", "u0233")]
    [InlineData("node_2", "node_2")]
    public void Member_names_map_like_patroni(string member, string slot) => Assert.Equal(slot, SlotNames.FromMemberName(member));

    [Fact]
    public void Slot_names_are_cut_to_63_characters()
    {
        var slot = SlotNames.FromMemberName(new string('a', 60) + "@@");
        Assert.Equal(63, slot.Length);
        Assert.Equal(new string('a', 60) + "u00", slot);
        Assert.True(SlotNames.IsValid(slot));
    }
}

public class LibpqConnInfoTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "''")]
    [InlineData("with space", "'with space'")]
    [InlineData("it's", @"'it\'s'")]
    [InlineData(@"back\slash", @"'back\\slash'")]
    public void Values_are_quoted_per_libpq(string value, string expected) => Assert.Equal(expected, LibpqConnInfo.QuoteValue(value));

    [Fact]
    public void Quoted_values_survive_inside_postgresql_conf()
    {
        var config = TestConfigs.Agent(p => p with { Pgpass = "/home/pg user/pgpass" });
        var conninfo = PostgresParameters.PrimaryConnInfo(config, new RecoveryTarget("10.0.0.1", 5432, null), config.Postgresql.Pgpass!);
        Assert.Contains("passfile='/home/pg user/pgpass'", conninfo, StringComparison.Ordinal);
        Assert.Equal("'user=replicator passfile=''/home/pg user/pgpass'' host=10.0.0.1 port=5432 sslmode=prefer application_name=node-1 gssencmode=prefer channel_binding=prefer'",
            PostgresParameters.QuoteConfValue(conninfo));
    }
}

public class PgPassFileTests
{
    [Fact]
    public void Lines_escape_colons_and_backslashes_and_skip_users_without_password()
    {
        var text = PgPassFile.Render([("postgres", @"a:b\c"), ("replicator", "r"), ("nopass", null), ("postgres", @"a:b\c")]);
        Assert.Equal("*:*:*:postgres:a\\:b\\\\c\n*:*:*:replicator:r\n", text);
    }
}

public class LsnTests
{
    [Theory]
    [InlineData("0/0", 0L)]
    [InlineData("0/3000148", 0x3000148L)]
    [InlineData("1/A", 0x1_0000000AL)]
    public void Parses_and_formats(string text, long value)
    {
        Assert.Equal(value, Lsn.Parse(text));
        Assert.Equal(text, Lsn.Format(value));
    }

    [Fact]
    public void Rejects_garbage() => Assert.Throws<FormatException>(() => Lsn.Parse("nope"));
}

public class TimelineHistoryTests
{
    [Fact]
    public void Parses_history_lines()
    {
        const string content = "1\t0/3000148\tno recovery target specified\n\n2\t0/5000000\tat restore point \"x\"\n";
        var history = TimelineHistory.Parse(content);
        Assert.Equal([(1, 0x3000148L, "no recovery target specified"), (2, 0x5000000L, "at restore point \"x\"")], history);
        Assert.Equal("00000003.history", TimelineHistory.FileName(3));
        Assert.Equal("0000000A.history", TimelineHistory.FileName(10));
    }
}

public class ProcStatTests
{
    [Theory]
    [InlineData("1234 (postgres) S 1 1234 1234 0 -1 4194560", 'S')]
    [InlineData("1234 (postgres) T 1 1234 1234 0 -1", 'T')]
    [InlineData("77 (weird) name) (x) Z 1 77", 'Z')]
    public void State_follows_the_last_parenthesis(string line, char state) => Assert.Equal(state, ProcStat.ParseState(line));

    [Fact]
    public void Parent_pid_and_runnable_states()
    {
        Assert.Equal(4321, ProcStat.ParseParentPid("99 (postgres: walwriter ) S 4321 99 99 0"));
        Assert.Null(ProcStat.ParseState("garbage"));
        Assert.True(ProcStat.IsRunnableState('S'));
        Assert.True(ProcStat.IsRunnableState('R'));
        Assert.True(ProcStat.IsRunnableState('D'));
        Assert.False(ProcStat.IsRunnableState('T'));
        Assert.False(ProcStat.IsRunnableState('Z'));
    }

    [Fact]
    public void Own_process_reads_as_running()
    {
        var state = ProcStat.ReadState(Environment.ProcessId);
        Assert.NotNull(state);
        Assert.True(ProcStat.IsRunnableState(state.Value));
    }
}

public class PostmasterPidFileTests
{
    [Fact]
    public void Parses_pid_port_and_status()
    {
        var f = PostmasterPidFile.Parse("4242\n/var/lib/pg/data\n1700000000\n5432\n/var/run/postgresql\n127.0.0.31\n  5432001    123\nready   \n");
        Assert.Equal(new PostmasterPidFile(4242, 5432, "ready"), f);
        Assert.Null(PostmasterPidFile.Parse(""));
    }
}

public class ListenAddressTests
{
    [Fact]
    public void Parses_hosts_and_port()
    {
        var l = ListenAddress.Parse("127.0.0.31,10.0.0.1:5433");
        Assert.Equal(["127.0.0.31", "10.0.0.1"], l.Hosts);
        Assert.Equal(5433, l.Port);
        Assert.Equal("127.0.0.31", l.LocalHost);
        Assert.Equal("127.0.0.1", ListenAddress.Parse("*:5432").LocalHost);
        Assert.Equal(5432, ListenAddress.Parse("0.0.0.0").Port);
        Assert.Throws<PgWarden.Config.ConfigException>(() => ListenAddress.Parse("h:notaport"));
    }
}

public class PgHbaFileTests
{
    [Fact]
    public void Local_beats_dynamic_beats_default()
    {
        var dynamic = new PgWarden.Config.DynamicConfig { PgHba = ["host all all 0.0.0.0/0 md5"] };
        var local = TestConfigs.Agent(p => p with { PgHba = ["host all all 10.0.0.0/8 md5"] });

        Assert.Contains("10.0.0.0/8", PgHbaFile.Render(local, dynamic), StringComparison.Ordinal);
        Assert.DoesNotContain("0.0.0.0/0", PgHbaFile.Render(local, dynamic), StringComparison.Ordinal);
        Assert.Contains("0.0.0.0/0", PgHbaFile.Render(TestConfigs.Agent(), dynamic), StringComparison.Ordinal);

        var defaults = PgHbaFile.Render(TestConfigs.Agent(), PgWarden.Config.DynamicConfig.Default);
        Assert.Contains("replication     replicator   127.0.0.1/32   md5", defaults, StringComparison.Ordinal);
        Assert.Contains("local   all             all", defaults, StringComparison.Ordinal);
    }
}
