using PgWarden.Api;
using PgWarden.Tests.Golden;

namespace PgWarden.Tests.Api;

public class MetricsDocumentTests
{
    [Fact]
    public void Leader_matches_recorded_metrics()
    {
        var expected = GoldenFile.RestBody("rest-head-options-metrics.txt", "GET /metrics on leader");
        var actual = MetricsDocument.Build(RecordedNodes.Leader(xlog: 67301928, dcsLastSeen: 1795319053), postmasterHealthy: true);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Replica_reports_received_and_replayed_positions()
    {
        var text = MetricsDocument.Build(RecordedNodes.Replica(), postmasterHealthy: true);
        Assert.Contains("patroni_replica{scope=\"demo\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("patroni_xlog_location{scope=\"demo\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("patroni_xlog_received_location{scope=\"demo\"} 67301872\n", text, StringComparison.Ordinal);
        Assert.Contains("patroni_xlog_replayed_timestamp{scope=\"demo\"} 1795319042.936641\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Dead_postmaster_reports_not_running()
    {
        var text = MetricsDocument.Build(RecordedNodes.Leader(), postmasterHealthy: false);
        Assert.Contains("patroni_postgres_running{scope=\"demo\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("patroni_postmaster_start_time{scope=\"demo\"} 0\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3.0.2", "030002")]
    [InlineData("4.1.4", "040104")]
    public void Version_is_zero_padded(string version, string expected) =>
        Assert.Equal(expected, MetricsDocument.PaddedSemver(version));
}
