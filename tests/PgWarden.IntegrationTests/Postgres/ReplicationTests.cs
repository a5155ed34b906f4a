using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class ReplicationTests(PrimaryFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cloned_replica_streams_through_its_slot_and_can_be_promoted()
    {
        var ct = CancellationToken.None;
        var primary = fixture.Primary;
        await using var replica = new PgTestNode(fixture.Root, "node2", "127.0.0.32");
        var slot = SlotNames.FromMemberName(replica.Name);

        // The clone creates the replica's slot on the primary before the replica ever streams.
        await replica.Instance.CloneAsync(primary.Host, 5432, slot, ct);
        Assert.Equal(1L, await primary.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"));
        Assert.True(replica.Instance.InspectDataDirectory().HasData);
        Assert.True(await replica.Instance.WriteConfigurationAsync(new RecoveryTarget(primary.Host, 5432, null), PgTestNode.Dynamic, ct));
        Assert.True(replica.Instance.InspectDataDirectory().IsStandbyConfigured);
        Assert.True(await replica.Instance.StartAsync(Deadline, ct), PrimaryFixture.ReadLog(replica));

        var probe = await Wait.UntilAsync(() => replica.Instance.ProbeAsync(ct), p => p?.ReplicationState == "streaming", Deadline);
        Assert.NotNull(probe);
        Assert.True(probe.InRecovery);
        Assert.Equal("streaming", probe.ReplicationState);
        Assert.Equal("127.0.0.31", probe.ReceiverHost);
        Assert.Null(probe.WalFlushLsn);
        Assert.Equal(1, probe.Timeline);

        var primaryProbe = await Wait.UntilAsync(() => primary.Instance.ProbeAsync(ct),
            p => p?.Replication.Any(r => r.ApplicationName == "node2" && r.State == "streaming") == true, Deadline);
        var row = Assert.Single(primaryProbe!.Replication, r => r.ApplicationName == "node2");
        Assert.Equal("replicator", row.Usename);
        Assert.Equal("async", row.SyncState);
        Assert.Equal(true, await primary.ScalarAsync($"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"));

        await primary.ScalarAsync("CREATE TABLE IF NOT EXISTS repl_check(v text); INSERT INTO repl_check VALUES ('hello')");
        var seen = await Wait.UntilAsync(() => replica.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = 'repl_check'"),
            v => Equals(v, 1L), Deadline);
        Assert.Equal(1L, seen);
        Assert.Equal(1L, await Wait.UntilAsync(() => replica.ScalarAsync("SELECT count(*) FROM repl_check WHERE v = 'hello'"), v => Equals(v, 1L), Deadline));

        // Promotion: out of recovery on a new timeline whose history names the fork point.
        Assert.True(await replica.Instance.PromoteAsync(Deadline, ct));
        Assert.True(await replica.Instance.WriteConfigurationAsync(null, PgTestNode.Dynamic, ct));
        var promoted = await replica.Instance.ProbeAsync(ct);
        Assert.NotNull(promoted);
        Assert.False(promoted.InRecovery);
        Assert.Equal(2, promoted.Timeline);
        var history = await replica.Instance.ReadTimelineHistoryAsync(2, ct);
        var entry = Assert.Single(history);
        Assert.Equal(1, entry.Timeline);
        Assert.True(entry.SwitchLsn > 0);
        Assert.False(replica.Instance.InspectDataDirectory().IsStandbyConfigured);

        await replica.Instance.StopAsync(StopMode.Fast, TimeSpan.FromSeconds(10), ct);
        Assert.False(replica.Instance.IsPostmasterAlive());
        Assert.Equal("shut down", replica.Instance.InspectDataDirectory().ClusterState);
    }

    [Fact]
    public async Task Failed_clone_leaves_an_empty_data_directory()
    {
        await using var node = new PgTestNode(fixture.Root, "node3", "127.0.0.32");
        await Assert.ThrowsAsync<PostgresCommandException>(() => node.Instance.CloneAsync("127.0.0.32", 5999, null, CancellationToken.None));
        Assert.False(node.Instance.InspectDataDirectory().HasData);
    }
}
