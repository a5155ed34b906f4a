using System.Diagnostics;
using System.Net;
using Npgsql;
using PgWarden.IntegrationTests.Failover;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Safety;

/// <summary>
/// synchronous_mode + synchronous_mode_strict on a real 3-node cluster: the sync standby is shown by pgwarden and
/// Debian's patronictl, health endpoints answer, only the sync standby is promoted, and without a sync standby a
/// commit is not acknowledged until another standby becomes synchronous.
/// </summary>
public sealed class SynchronousModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Strict_synchronous_mode_end_to_end()
    {
        EtcdCut.RemoveLeftovers();
        await using var cluster = await AgentCluster.StartAsync("itsync", 3,
            extraDcs: new Dictionary<string, string> { ["synchronous_mode"] = "true", ["synchronous_mode_strict"] = "true" });
        using var dump = new LogDump(output, cluster);
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var sw = Stopwatch.StartNew();
        (string? Leader, string[] Standbys)? sync = null;
        await Wait.UntilAsync(async () => (sync = await SafetyHelpers.SyncKeyAsync(cluster)) is { Standbys.Length: 1 },
            TimeSpan.FromSeconds(30), "/sync to name a synchronous standby");
        output.WriteLine($"/sync named a standby {sw.Elapsed.TotalSeconds:F1} s after the cluster was healthy");
        var leader = cluster.Node(sync!.Value.Leader!);
        var syncStandby = cluster.Node(sync.Value.Standbys[0]);
        var asyncStandby = cluster.Nodes.Single(n => n != leader && n != syncStandby);
        Assert.Equal(await cluster.LeaderAsync(), leader.Name);
        Assert.Equal(syncStandby.Name, await SafetyHelpers.ScalarAsync(leader, "SHOW synchronous_standby_names"));
        Assert.Equal("sync", await SafetyHelpers.ScalarAsync(leader, $"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{syncStandby.Name}'"));

        // list: pgwarden and Debian's patronictl both show the role.
        var (_, list) = Scenario.Pgwarden("list", "-c", leader.ConfigPath);
        output.WriteLine(list);
        Assert.Matches($@"\| {syncStandby.Name} .*\| Sync Standby", list);
        Assert.Matches($@"\| {asyncStandby.Name} .*\| Replica", list);
        var (pcode, plist) = OsUser.Run(true, "patronictl", "-c", leader.ConfigPath, "list");
        output.WriteLine(plist);
        Assert.True(pcode == 0, plist);
        Assert.Matches($@"\| {syncStandby.Name} .*\| Sync Standby", plist);

        // Health endpoints: each node answers from its own last view of /sync, fresh within one loop.
        async Task<bool> Answers(ClusterNode node, string path, HttpStatusCode code) => (await AgentCluster.GetAsync($"{node.RestUrl}{path}")).Code == code;
        await Wait.UntilAsync(async () =>
            await Answers(syncStandby, "/sync", HttpStatusCode.OK) && await Answers(asyncStandby, "/sync", HttpStatusCode.ServiceUnavailable) &&
            await Answers(asyncStandby, "/async", HttpStatusCode.OK) && await Answers(syncStandby, "/async", HttpStatusCode.ServiceUnavailable),
            TimeSpan.FromSeconds(10), "/sync and /async to answer 200 on the sync and the async standby respectively");

        // Failover: only the synchronous standby may be promoted; the async one must never hold the lock.
        sw.Restart();
        Scenario.KillAgentAndPostmaster(leader);
        var seen = new HashSet<string>();
        await Wait.UntilAsync(async () =>
        {
            var l = await cluster.LeaderAsync();
            if (l is not null) seen.Add(l);
            return l is not null && l != leader.Name && await SafetyHelpers.IsWritablePrimaryAsync(cluster.Node(l));
        }, TimeSpan.FromSeconds(60), "a new writable leader", TimeSpan.FromMilliseconds(100));
        output.WriteLine($"failover: leaders seen {string.Join(",", seen)}; new primary writable {sw.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.Equal(syncStandby.Name, await cluster.LeaderAsync());
        Assert.DoesNotContain(asyncStandby.Name, seen);

        // The old leader comes back as a replica; the new primary makes one of them synchronous.
        leader.Start();
        await cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(120));
        var primary = syncStandby;
        await Wait.UntilAsync(async () => (sync = await SafetyHelpers.SyncKeyAsync(cluster)) is { Standbys.Length: 1 } s && s.Leader == primary.Name,
            TimeSpan.FromSeconds(30), "/sync to name a synchronous standby of the new primary");
        var newSync = cluster.Node(sync!.Value.Standbys[0]);
        var other = cluster.Nodes.Single(n => n != primary && n != newSync);
        await using (var conn = primary.Connect())
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS strict_probe (id int primary key)", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        // Strict mode: with no standby at all a commit must not be acknowledged.
        Scenario.KillAgentAndPostmaster(other);
        Scenario.KillAgentAndPostmaster(newSync);
        sw.Restart();
        await using var blocked = primary.Connect();
        await blocked.OpenAsync();
        var notices = new List<string>();
        blocked.Notice += (_, e) => { lock (notices) notices.Add(e.Notice.MessageText); };
        await using var insert = new NpgsqlCommand("INSERT INTO strict_probe VALUES (1)", blocked) { CommandTimeout = 0 };
        var commit = insert.ExecuteNonQueryAsync();
        var early = await Task.WhenAny(commit, Task.Delay(TimeSpan.FromSeconds(8)));
        Assert.True(early != commit, "a commit was acknowledged with no synchronous standby in strict mode");
        output.WriteLine($"commit still waiting {sw.Elapsed.TotalSeconds:F1} s after both standbys were killed; " +
                         $"synchronous_standby_names = '{await SafetyHelpers.ScalarAsync(primary, "SHOW synchronous_standby_names")}'");

        // Another standby comes back and becomes synchronous: the commit completes then, not before.
        other.Start();
        var restarted = Stopwatch.StartNew();
        await commit.WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"commit acknowledged {restarted.Elapsed.TotalSeconds:F1} s after {other.Name} was restarted (blocked {sw.Elapsed.TotalSeconds:F1} s in all); notices: {string.Join(" | ", notices)}");
        Assert.Empty(notices);
        Assert.Equal("1", await SafetyHelpers.ScalarAsync(other, "SELECT count(*) FROM strict_probe"));
        await Wait.UntilAsync(async () => (sync = await SafetyHelpers.SyncKeyAsync(cluster)) is { } s && s.Standbys.Contains(other.Name),
            TimeSpan.FromSeconds(30), $"/sync to name {other.Name}");
        dump.Passed();
    }
}
