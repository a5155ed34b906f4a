using PgWarden.Dcs;
using PgWarden.Ha;

namespace PgWarden.Tests.Ha;

/// <summary>
/// A pg_rewind whose source went away is retried, not remembered as a failure; a remembered failure applies only to
/// the leader (name and timeline) it ran against. Found by the fault suite: a stale failure blocked a needed rewind forever.
/// </summary>
public sealed class RewindFailureTests
{
    [Theory]
    [InlineData("pg_rewind exited with 1: pg_rewind: error: connection to server at \"127.0.9.11\", port 5432 failed: Connection refused", true)]
    [InlineData("pg_rewind exited with 1: pg_rewind: error: connection to server at \"127.0.9.11\", port 5432 failed: timeout expired", true)]
    [InlineData("pg_rewind exited with 1: server closed the connection unexpectedly", true)]
    [InlineData("pg_rewind exited with 1: pg_rewind: error: could not find common ancestor of the source and target cluster's timelines", false)]
    [InlineData("pg_rewind exited with 1: pg_rewind: fatal: target server needs to use either data checksums or \"wal_log_hints = on\"", false)]
    public void Source_unreachable_is_told_apart_from_a_real_failure(string message, bool unreachable) =>
        Assert.Equal(unreachable, HaExecutor.RewindSourceUnreachable(message));

    [Fact]
    public void Failure_key_names_the_leader_and_its_timeline()
    {
        var leader = new Member("node2", new MemberData { Role = "master", Timeline = 20 }, 1, 1);
        var view = new ClusterView { Leader = new LeaderKey("node2", 1, 1), Members = [leader] };
        Assert.Equal("node2@20", HaExecutor.RewindSourceKey(view));
        Assert.Null(HaExecutor.RewindSourceKey(new ClusterView()));
    }
}
