using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using PgWarden.IntegrationTests.Cluster;
using PgWarden.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace PgWarden.IntegrationTests.Failover;

/// <summary>
/// Manual switchover and failover, automatic failover after kill -9 and the old primary's rejoin, on one shared
/// 3-node cluster whose node3 is tagged nofailover (so it must never become the leader in any of these tests).
/// Every test starts from a healthy cluster and leaves one behind. The same scenarios run on every DCS backend
/// (one empty subclass per backend at the end of the file).
/// </summary>
public abstract class SwitchoverScenario<TBackend>(FailoverClusterOn<TBackend> fixture, ITestOutputHelper output)
    : IClassFixture<FailoverClusterOn<TBackend>> where TBackend : IBackend
{
    private AgentCluster Cluster => fixture.Cluster;

    private async Task<(ClusterNode Leader, ClusterNode Replica)> HealthyAsync()
    {
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        var leader = Cluster.Node((await Cluster.LeaderAsync())!);
        Assert.NotEqual("node3", leader.Name);
        var replica = Cluster.Nodes.First(n => n != leader && n.Name != "node3");
        return (leader, replica);
    }

    [Fact]
    public async Task Switchover_errors_get_patronis_codes_and_messages()
    {
        var (leader, replica) = await HealthyAsync();
        var url = leader.RestUrl;

        async Task Expect(string path, string body, HttpStatusCode code, string message)
        {
            var (got, text) = await Scenario.SendAsync(HttpMethod.Post, url + path, body);
            output.WriteLine($"POST {path} {body} -> {(int)got} {text.Split('\n')[0]}");
            Assert.Equal(code, got);
            Assert.StartsWith(message, text);
        }

        await Expect("/switchover", """{"candidate":"node2"}""", HttpStatusCode.BadRequest, "Switchover could be performed only from a specific leader");
        await Expect("/switchover", $$"""{"leader":"{{replica.Name}}","candidate":"{{leader.Name}}"}""", HttpStatusCode.PreconditionFailed, "leader name does not match");
        await Expect("/switchover", $$"""{"leader":"{{leader.Name}}","candidate":"node9"}""", HttpStatusCode.PreconditionFailed, "candidate does not exists");
        await Expect("/switchover", $$"""{"leader":"{{leader.Name}}","candidate":"node3"}""", HttpStatusCode.PreconditionFailed,
            "switchover is not possible: no good candidates have been found (node3: tagged nofailover)");
        await Expect("/failover", """{"candidate":"node9"}""", HttpStatusCode.PreconditionFailed, "candidate does not exists");
        await Expect("/switchover", """{"leader":"x","scheduled_at":"2020-01-01T00:00:00"}""", HttpStatusCode.BadRequest, "Timezone information is mandatory for the scheduled switchover");
        await Expect("/switchover", """{"leader":"x","scheduled_at":"2020-01-01T00:00:00+00:00"}""", (HttpStatusCode)422, "Cannot schedule switchover in the past");
        await Expect("/switchover", "{}", HttpStatusCode.BadRequest, "<!DOCTYPE HTML>");
        await Expect("/switchover", "{not json", HttpStatusCode.BadRequest, "<!DOCTYPE HTML>");
        var (code, text) = await Scenario.SendAsync(HttpMethod.Delete, url + "/switchover");
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("no switchover is scheduled", text);
        // Patroni 3.0.2 accepts candidate == leader; the leader then drops the request: 503 "Switchover failed", to
        // which we add the leader's reason.
        await Expect("/switchover", $$"""{"leader":"{{leader.Name}}","candidate":"{{leader.Name}}"}""", HttpStatusCode.ServiceUnavailable,
            "Switchover failed: manual failover: I am already the leader, no need to failover");
        Assert.Equal(leader.Name, await Cluster.LeaderAsync());
    }

    [Fact]
    public async Task Switchover_to_a_named_replica_and_back_with_patronictl_loses_no_acknowledged_insert()
    {
        var (leader, replica) = await HealthyAsync();
        await using var probe = new WriteProbe(Cluster);
        probe.Start();
        await probe.WaitForAcksAsync(20, TimeSpan.FromSeconds(15), "the write probe to get going");

        var sw = Stopwatch.StartNew();
        var (code, text) = Scenario.Pgwarden("switchover", "-c", leader.ConfigPath, "--leader", leader.Name, "--candidate", replica.Name, "--force");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains($"New leader: {replica.Name}", text);
        output.WriteLine($"pgwarden switchover {leader.Name} -> {replica.Name}: {sw.Elapsed.TotalSeconds:F1} s");
        var (_, list) = Scenario.Pgwarden("list", "-c", leader.ConfigPath);
        Assert.Matches($@"\| {replica.Name} .*\| Leader", list);

        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var firstGap = probe.LongestGap();
        output.WriteLine($"switchover write gap (longest time between two acknowledged inserts): {firstGap.TotalMilliseconds:F0} ms");

        sw.Restart();
        (code, text) = OsUser.Run(true, "patronictl", "-c", replica.ConfigPath, "switchover", "--leader", replica.Name, "--candidate", leader.Name, "--force");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains($"Successfully switched over to \"{leader.Name}\"", text);
        output.WriteLine($"patronictl switchover {replica.Name} -> {leader.Name}: {sw.Elapsed.TotalSeconds:F1} s");
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(leader.Name, await Cluster.LeaderAsync());

        await Wait.UntilAsync(() => probe.Acknowledged.Count > 0, TimeSpan.FromSeconds(5), "acks");
        await Task.Delay(300);
        await probe.StopAsync();
        output.WriteLine($"write gap over both switchovers: {probe.LongestGap().TotalMilliseconds:F0} ms; {probe.Acknowledged.Count} acknowledged inserts");
        var missing = await probe.MissingOnAsync(leader);
        Assert.True(missing.Count == 0, $"acknowledged inserts missing on {leader.Name}: {string.Join(",", missing)}");

        var (_, history) = await AgentCluster.GetAsync($"{leader.RestUrl}/history");
        output.WriteLine($"GET /history: {history}");
        var lines = JsonNode.Parse(history)!.AsArray();
        Assert.True(lines.Count >= 2);
        var last = lines[^1]!.AsArray();
        Assert.Equal(5, last.Count);
        Assert.Equal(leader.Name, last[4]!.GetValue<string>());
    }

    [Fact]
    public async Task Scheduled_switchover_can_be_cancelled_and_happens_at_its_time()
    {
        var (leader, replica) = await HealthyAsync();
        var later = DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-dd'T'HH:mm:ss+00:00");
        var (code, text) = await Scenario.SendAsync(HttpMethod.Post, leader.RestUrl + "/switchover",
            $$"""{"leader":"{{leader.Name}}","candidate":"{{replica.Name}}","scheduled_at":"{{later}}"}""");
        Assert.Equal((HttpStatusCode.Accepted, "Switchover scheduled"), (code, text));
        (code, text) = await Scenario.SendAsync(HttpMethod.Delete, leader.RestUrl + "/switchover");
        Assert.Equal((HttpStatusCode.OK, "scheduled switchover deleted"), (code, text));
        Assert.Equal("{}", (await Cluster.ReadDcsAsync())["failover"]);

        var at = DateTimeOffset.UtcNow.AddSeconds(5);
        (code, text) = await Scenario.SendAsync(HttpMethod.Post, leader.RestUrl + "/switchover",
            $$"""{"leader":"{{leader.Name}}","candidate":"{{replica.Name}}","scheduled_at":"{{at:yyyy-MM-dd'T'HH:mm:ss.fff}}+00:00"}""");
        Assert.Equal(HttpStatusCode.Accepted, code);
        await Wait.UntilAsync(async () => await Cluster.LeaderAsync() == replica.Name, TimeSpan.FromSeconds(30), $"the scheduled switchover to {replica.Name}");
        var early = at - DateTimeOffset.UtcNow;
        output.WriteLine($"leader moved {-early.TotalSeconds:F1} s after the scheduled time");
        Assert.True(early < TimeSpan.FromMilliseconds(200), $"the switchover happened {early.TotalSeconds:F1} s before its time");
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Kill_9_of_the_leader_agent_and_postmaster_fails_over_and_the_old_primary_rejoins_through_pg_rewind()
    {
        var (leader, replica) = await HealthyAsync();
        var third = Cluster.Node("node3");
        var oldTimeline = await Scenario.TimelineAsync(leader);
        await using var probe = new WriteProbe(Cluster);
        probe.Start();
        await probe.WaitForAcksAsync(50, TimeSpan.FromSeconds(15), "the write probe to get going");

        var sw = Stopwatch.StartNew();
        Scenario.KillAgentAndPostmaster(leader);
        var ackedAtKill = probe.Acknowledged.Count;
        await Wait.UntilAsync(async () => await Cluster.LeaderAsync() == replica.Name, TimeSpan.FromSeconds(40),
            $"{replica.Name} to take the lock (node3 is nofailover)");
        var lockTaken = sw.Elapsed;
        await Wait.UntilAsync(() => probe.Acknowledged.Count > ackedAtKill + 10, TimeSpan.FromSeconds(20), "the write probe to resume on the new leader");
        output.WriteLine($"kill -9 -> new leader {replica.Name} holds the lock after {lockTaken.TotalSeconds:F1} s (ttl 10, loop_wait 2)");

        var newTimeline = await Scenario.TimelineAsync(replica);
        Assert.True(newTimeline > oldTimeline);
        await Wait.UntilAsync(async () => await Scenario.WalReceiverAsync(third) is { Status: "streaming" } r && r.Timeline == newTimeline
                                          && r.Host == replica.Spec.Address,
            TimeSpan.FromSeconds(20), $"node3 to stream from {replica.Name} on timeline {newTimeline}");

        await probe.StopAsync();
        var gap = probe.LongestGap();
        output.WriteLine($"failover write gap (ttl 10): {gap.TotalSeconds:F1} s; {probe.Acknowledged.Count} acknowledged inserts");
        var missing = await probe.MissingOnAsync(replica);
        output.WriteLine($"acknowledged inserts missing on the new leader: {missing.Count}");
        Assert.True(missing.Count <= 1, $"acknowledged inserts missing on {replica.Name}: {string.Join(",", missing)}");

        // The old primary comes back: it diverged (it was killed mid-stream), so it must go through pg_rewind.
        var agent = leader.Start();
        await Wait.UntilAsync(async () => await Scenario.WalReceiverAsync(leader) is { Status: "streaming" } r && r.Timeline == newTimeline,
            TimeSpan.FromSeconds(60), $"{leader.Name} to rejoin as a streaming replica on timeline {newTimeline}");
        output.WriteLine($"{leader.Name} rejoined; its log says: " + string.Join(" | ", agent.Output.Split('\n').Where(l => l.Contains("pg_rewind", StringComparison.Ordinal)).Take(3)));
        Assert.Contains("pg_rewind", agent.Output);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
    }
}

public sealed class SwitchoverOnEtcd3Tests(FailoverClusterOn<OnEtcd3> fixture, ITestOutputHelper output)
    : SwitchoverScenario<OnEtcd3>(fixture, output);

public sealed class SwitchoverOnEtcdV2Tests(FailoverClusterOn<OnEtcdV2> fixture, ITestOutputHelper output)
    : SwitchoverScenario<OnEtcdV2>(fixture, output);

public sealed class SwitchoverOnZooKeeperTests(FailoverClusterOn<OnZooKeeper> fixture, ITestOutputHelper output)
    : SwitchoverScenario<OnZooKeeper>(fixture, output);
