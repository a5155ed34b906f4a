using System.Text.Json;
using PgWarden.Dcs;
using PgWarden.Ha;

namespace PgWarden.Tests.Ha;

/// <summary>Why a switchover candidate was refused, and whether a second look may change it (Transient).</summary>
public sealed class SwitchoverCandidatesTests
{
    private static ClusterView View() => new()
    {
        Leader = new LeaderKey("node1", 10, 99),
        Members = [Member("node1"), Member("node2")],
    };

    private static Member Member(string name) => TestMembers.Running(name);

    public static TheoryData<string, PeerStatus, bool, bool, string> Verdicts() => new()
    {
        { "answered, level with the leader", new PeerStatus("node2", true, false, 5000, false, 1), true, false, "eligible (lag 0 MB)" },
        { "probe timed out", PeerStatus.Unreachable("node2", "did not answer GET http://127.0.0.12:8008/patroni within 1.5 s"), false, true, "did not answer GET http://127.0.0.12:8008/patroni within 1.5 s" },
        { "answered without a WAL position", PeerStatus.Unreachable("node2", "GET http://127.0.0.12:8008/patroni answered without a WAL position (PostgreSQL state starting)"), false, true, "answered without a WAL position (PostgreSQL state starting)" },
        { "lag from its last report", new PeerStatus("node2", true, false, 5000 - 2_000_000, false, 1), false, true, "lag 1.91 MB > maximum_lag_on_failover 1 MB" },
        { "runs as a primary", new PeerStatus("node2", true, true, 5000, false, 1), false, false, "is running as a primary" },
        { "tagged nofailover in its answer", new PeerStatus("node2", true, false, 5000, true, 0), false, false, "tagged nofailover" },
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public void Judges(string situation, PeerStatus peer, bool eligible, bool transient, string why)
    {
        var verdict = Assert.Single(SwitchoverCandidates.Evaluate(View(), "node1", "node2", [peer], 5000, 1048576));
        Assert.True(eligible == verdict.Eligible && transient == verdict.Transient, $"{situation}: got {verdict}");
        Assert.Contains(why, verdict.Why);
    }

    [Fact]
    public void A_status_document_without_a_wal_position_is_not_reachable_and_says_why()
    {
        using var doc = JsonDocument.Parse("""{"state":"starting","role":"replica"}""");
        var peer = PeerProber.Parse("node2", doc.RootElement, "http://127.0.0.12:8008/patroni");
        Assert.False(peer.Reachable);
        Assert.Equal("GET http://127.0.0.12:8008/patroni answered without a WAL position (PostgreSQL state starting)", peer.Problem);
    }
}
