using Microsoft.Extensions.Logging;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Tests.Dcs;

public sealed class DcsValueProblemTests
{
    private static readonly DcsKeys Keys = new("/service/", "batman");

    [Theory]
    [InlineData("leader", "")]
    [InlineData("leader", "{\"x\":1}")]
    [InlineData("leader", "node1\nnode2")]
    [InlineData("config", "not json")]
    [InlineData("config", "[1,2]")]
    [InlineData("config", "{\"ttl\":\"soon\"}")]
    [InlineData("initialize", "garbage!")]
    [InlineData("status", "{{{")]
    [InlineData("status", "\"text\"")]
    [InlineData("optime/leader", "abc")]
    [InlineData("failover", "{broken")]
    [InlineData("failover", "[1, {\"leader\": 5}, null]")]
    [InlineData("sync", "42")]
    [InlineData("sync", "not json")]
    [InlineData("history", "{\"a\":1}")]
    [InlineData("history", "[[1,100,\"ok\"],\"junk\"]")]
    [InlineData("failsafe", "[]")]
    [InlineData("members/node1", "\u0000\u0001binary")]
    [InlineData("members/node1", "[\"not\",\"an\",\"object\"]")]
    public void Garbage_in_a_key_is_a_problem(string key, string value)
    {
        var problem = DcsCodec.ValueProblem(key, value);
        Assert.NotNull(problem);
        Assert.False(string.IsNullOrWhiteSpace(problem));
    }

    [Theory]
    [InlineData("leader", "node1")]
    [InlineData("config", "{\"ttl\":30,\"loop_wait\":10}")]
    [InlineData("initialize", "7296823408129867798")]
    [InlineData("initialize", "")]
    [InlineData("status", "{\"optime\":67108960,\"slots\":{\"node2\":67108960}}")]
    [InlineData("status", "67108960")]
    [InlineData("optime/leader", "67108960")]
    [InlineData("failover", "{\"leader\":\"node1\",\"member\":\"node2\"}")]
    [InlineData("failover", "node1:node2")]
    [InlineData("failover", "")]
    [InlineData("sync", "{\"leader\":\"node1\",\"sync_standby\":\"node2\"}")]
    [InlineData("history", "[[1,25165984,\"no recovery target specified\",\"2023-01-01T00:00:00+00:00\",\"node1\"]]")]
    [InlineData("history", "[]")]
    [InlineData("failsafe", "{\"node1\":\"http://127.0.0.1:8008/patroni\"}")]
    [InlineData("members/node1", "{\"conn_url\":\"postgres://127.0.0.1:5432/postgres\",\"state\":\"running\"}")]
    [InlineData("members/node1", "postgres://u:p@127.0.0.1:5432/postgres?application_name=http://127.0.0.1:8008/patroni")]
    [InlineData("some/unknown/key", "whatever")]
    public void What_Patroni_writes_is_no_problem(string key, string value) => Assert.Null(DcsCodec.ValueProblem(key, value));

    [Fact]
    public void The_cluster_view_carries_the_problems_and_still_reads_leniently()
    {
        var view = DcsCodec.ParseCluster(Keys,
        [
            new Etcd3KeyValue("/service/batman/leader", "node1", 1, 5, 1, 7),
            new Etcd3KeyValue("/service/batman/members/node1", "%%%garbage%%%", 1, 6, 1, 7),
            new Etcd3KeyValue("/service/batman/sync", "[not json", 1, 7, 1, 0),
        ], 8);
        Assert.Equal("node1", view.Leader?.Name);
        Assert.Null(view.FindMember("node1")!.Data.ConnUrl);
        Assert.Equal(["members/node1", "sync"], view.Problems.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("%%%garbage%%%", view.Problems.Single(p => p.Key == "members/node1").Excerpt);
    }

    [Fact]
    public void The_excerpt_is_one_printable_line() =>
        Assert.Equal("a\\x00b\\x0ac", new DcsValueProblem("sync", "a\u0000b\nc", "x").Excerpt);

    [Fact]
    public void Each_distinct_bad_value_is_logged_once_per_key_and_a_repair_is_noticed()
    {
        var logger = new ListLogger();
        var log = new DcsValueProblemLog(logger);
        var bad = new ClusterView { Problems = [new DcsValueProblem("config", new string('x', 200), "expected a JSON object")] };
        log.Report(bad);
        log.Report(bad);
        log.Report(bad);
        Assert.Single(logger.Lines);
        Assert.Contains("DCS key config holds a value that cannot be used", logger.Lines[0], StringComparison.Ordinal);
        Assert.Contains(new string('x', 60) + "...", logger.Lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 61), logger.Lines[0], StringComparison.Ordinal);
        log.Report(new ClusterView { Problems = [new DcsValueProblem("config", "other garbage", "expected a JSON object")] });
        Assert.Equal(2, logger.Lines.Count);
        log.Report(ClusterView.Empty);
        Assert.Contains("DCS key config no longer holds an unusable value", logger.Lines[2], StringComparison.Ordinal);
        log.Report(bad);
        Assert.Equal(4, logger.Lines.Count);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
