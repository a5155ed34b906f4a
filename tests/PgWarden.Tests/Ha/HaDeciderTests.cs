using System.Text.Json.Nodes;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.Tests.Ha;

/// <summary>One row per decision rule: a named situation and the action (and target) it must lead to.</summary>
public sealed class HaDeciderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 4, 0, 0, TimeSpan.Zero);
    private const string Sysid = "7710836552808695120";

    private static readonly DataDirectoryInfo Empty = new() { HasData = false };
    private static readonly DataDirectoryInfo PrimaryData = new() { HasData = true, SystemIdentifier = Sysid, ClusterState = "in production" };
    private static readonly DataDirectoryInfo PrimaryShutDown = new() { HasData = true, SystemIdentifier = Sysid, ClusterState = "shut down" };
    private static readonly DataDirectoryInfo StandbyData = new() { HasData = true, SystemIdentifier = Sysid, ClusterState = "in archive recovery", IsStandbyConfigured = true };
    private static readonly DataDirectoryInfo ForeignData = new() { HasData = true, SystemIdentifier = "1234567890123456789", ClusterState = "shut down" };

    private static readonly PostgresProbe Primary = new() { InRecovery = false, ServerVersion = 150018, Timeline = 1, WalFlushLsn = 5000 };
    private static readonly PostgresProbe Standby = new() { InRecovery = true, ServerVersion = 150018, Timeline = 1, ReceiveLsn = 5000, ReplayLsn = 5000, ReplicationState = "streaming" };
    private static readonly PostgresProbe LaggingStandby = Standby with { ReceiveLsn = 100, ReplayLsn = 100 };

    private static Member RunningMember(string name, bool clonefrom = false) => TestMembers.Running(name, clonefrom);

    private static ClusterView View(string? leader = null, string? initialize = Sysid, bool paused = false, long? optime = null, IReadOnlyList<HistoryEntry>? history = null, params Member[] members) => new()
    {
        Initialize = initialize,
        Leader = leader is null ? null : new LeaderKey(leader, 10, 99),
        Members = members.Length > 0 ? members : [RunningMember("node1"), RunningMember("node2"), RunningMember("node3")],
        Config = new VersionedConfig(new DynamicConfig { Pause = paused }, 5, "{}"),
        Status = optime is null ? null : new ClusterStatus(optime, new Dictionary<string, long>()),
        History = history,
    };

    private static HaInput Input(ClusterView? view, DataDirectoryInfo data, PostgresProbe? probe = null, bool alive = true,
        IReadOnlyList<PeerStatus>? peers = null, MemberTags? tags = null, bool canBootstrap = true) => new()
    {
        Name = "node1",
        View = view,
        DataDir = data,
        PostmasterAlive = probe is not null || (alive && data.HasData && probe is not null),
        Probe = probe,
        Peers = peers ?? [],
        Tags = tags ?? MemberTags.Empty,
        CanBootstrap = canBootstrap,
        Now = Now,
    };

    private static MemberTags Tags(string json) =>
        new(JsonNode.Parse(json)!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone()));

    public static TheoryData<string, HaInput, HaAction, string?> Rules() => new()
    {
        // DCS unreachable
        { "dcs down, running primary: demote before the lock can expire", Input(null, PrimaryData, Primary), HaAction.DemoteOffline, null },
        { "dcs down, replica: keep running, take no lock", Input(null, StandbyData, Standby), HaAction.WaitForDcs, null },
        { "dcs down, postgres stopped: never start a primary", Input(null, PrimaryShutDown, null, alive: false), HaAction.WaitForDcs, null },
        // empty data directory
        { "empty cluster: race for bootstrap", Input(View(initialize: null, members: RunningMember("node2")), Empty, alive: false), HaAction.RaceForBootstrap, null },
        { "empty cluster, no bootstrap section: wait", Input(View(initialize: null), Empty, alive: false, canBootstrap: false), HaAction.Nothing, null },
        { "empty cluster, nofailover: wait", Input(View(initialize: null), Empty, alive: false, tags: Tags("""{"nofailover":true}""")), HaAction.Nothing, null },
        { "bootstrap under way: wait for the leader", Input(View(initialize: ""), Empty, alive: false), HaAction.Nothing, null },
        { "leader running: clone from it", Input(View(leader: "node2"), Empty, alive: false), HaAction.CloneFromMember, "node2" },
        { "clonefrom member preferred over the leader", Input(View("node2", members: [RunningMember("node1"), RunningMember("node2"), RunningMember("node3", clonefrom: true)]), Empty, alive: false), HaAction.CloneFromMember, "node3" },
        { "initialized but no leader: nothing to clone from", Input(View(), Empty, alive: false), HaAction.Nothing, null },
        // data directory checks
        { "foreign data directory is refused", Input(View("node2"), ForeignData, alive: false), HaAction.FatalSystemIdMismatch, null },
        { "garbage in the initialize key proves nothing: keep following", Input(View("node2", initialize: "{\"not\": json"), StandbyData, Standby), HaAction.Follow, "node2" },
        { "non-digit initialize value is no sysid mismatch", Input(View("node2", initialize: "7710836552808695120x"), StandbyData, Standby), HaAction.Follow, "node2" },
        { "data without initialize key: claim it", Input(View(initialize: null), PrimaryShutDown, alive: false), HaAction.ClaimInitialize, null },
        // postgres stopped
        { "lock holder, primary data: start as primary", Input(View("node1"), PrimaryShutDown, alive: false), HaAction.StartAsPrimary, null },
        { "lock holder, standby data: start as standby first", Input(View("node1"), StandbyData, alive: false), HaAction.StartAsReplica, null },
        { "other leader: start as its standby", Input(View("node2"), StandbyData, alive: false), HaAction.StartAsReplica, "node2" },
        { "replicatefrom: start streaming from that member", Input(View("node2"), StandbyData, alive: false, tags: Tags("""{"replicatefrom":"node3"}""")), HaAction.StartAsReplica, "node3" },
        { "no leader: start as standby without upstream", Input(View(), StandbyData, alive: false), HaAction.StartAsReplica, null },
        { "paused: do not start postgres", Input(View("node2", paused: true), StandbyData, alive: false), HaAction.Nothing, null },
        // running primary
        { "primary with lock: renew", Input(View("node1"), PrimaryData, Primary), HaAction.RenewLock, null },
        { "primary without lock, other leader: demote", Input(View("node2"), PrimaryData, Primary), HaAction.DemoteToReplica, "node2" },
        { "primary without lock, paused: leave it", Input(View("node2", paused: true), PrimaryData, Primary), HaAction.Nothing, null },
        { "primary, no leader: take the lock", Input(View(), PrimaryData, Primary), HaAction.AcquireLock, null },
        { "stale primary behind the cluster timeline: demote", Input(View(history: [new HistoryEntry(1, 100, "no recovery target specified", null, "node2")]), PrimaryData, Primary), HaAction.DemoteToReplica, null },
        // running standby
        { "standby holding the lock: promote", Input(View("node1"), StandbyData, Standby), HaAction.Promote, null },
        { "standby with a leader: follow it", Input(View("node2"), StandbyData, Standby), HaAction.Follow, "node2" },
        { "standby, no leader, healthiest: acquire", Input(View(), StandbyData, Standby, peers: [new PeerStatus("node2", true, false, 4000, false, 1)]), HaAction.AcquireLock, null },
        { "standby, no leader, unreachable peers do not block", Input(View(), StandbyData, Standby, peers: [PeerStatus.Unreachable("node2")]), HaAction.AcquireLock, null },
        { "standby, no leader, a peer is ahead: follow nobody", Input(View(), StandbyData, Standby, peers: [new PeerStatus("node2", true, false, 6000, false, 1)]), HaAction.Follow, null },
        { "standby, no leader, the old primary still runs: do not race", Input(View(), StandbyData, Standby, peers: [new PeerStatus("node2", true, true, 5000, false, 1)]), HaAction.Follow, null },
        { "standby, no leader, the former leader's agent is frozen but its PostgreSQL still runs as a primary: do not race", Input(View(), StandbyData, Standby, peers: [PeerStatus.Unreachable("node2")]) with { FormerLeaderStillPrimary = "node2" }, HaAction.Follow, null },
        { "standby, no leader, former leader answered but not as a primary (fenced or down): race", Input(View(), StandbyData, Standby, peers: [PeerStatus.Unreachable("node2")]) with { FormerLeaderStillPrimary = null }, HaAction.AcquireLock, null },
        { "standby, no leader, pending failover to me: the manual rule decides, the former-leader rule does not apply", Input(View() with { Failover = Request(null, "node1") }, StandbyData, Standby) with { FormerLeaderStillPrimary = "node2" }, HaAction.AcquireLock, null },
        { "standby, no leader, nofailover peer ahead does not block", Input(View(), StandbyData, Standby, peers: [new PeerStatus("node2", true, false, 6000, true, 0)]), HaAction.AcquireLock, null },
        { "equal position, higher failover_priority wins", Input(View(), StandbyData, Standby, peers: [new PeerStatus("node2", true, false, 5000, false, 5)]), HaAction.Follow, null },
        { "lag beyond maximum_lag_on_failover: not eligible", Input(View(optime: 5_000_000), StandbyData, LaggingStandby), HaAction.Follow, null },
        { "nofailover standby never races", Input(View(), StandbyData, Standby, tags: Tags("""{"nofailover":true}""")), HaAction.Follow, null },
        { "paused: no automatic failover", Input(View(paused: true), StandbyData, Standby), HaAction.Nothing, null },
        // failover key on the leader (compat §5.6)
        { "switchover to a healthy named candidate: graceful demote", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000)]), HaAction.GracefulSwitchover, "node2" },
        { "switchover without candidate: the best eligible member", Input(View("node1") with { Failover = Request("node1", null) }, PrimaryData, Primary, peers: [Peer("node2", 4000), Peer("node3", 4500)]), HaAction.GracefulSwitchover, "node3" },
        { "switchover to an unreachable candidate, age unknown: clear the key", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node2")]), HaAction.RenewAndClearFailover, null },
        { "switchover to a lagging candidate, age unknown: clear the key", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000 - 2_000_000)]), HaAction.RenewAndClearFailover, null },
        // transient refusals wait for loop_wait + retry_timeout (default 10 + 10 s) from the request, then clear
        { "switchover to a candidate whose probe timed out, 1 s old: keep it and look again", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewLock, null },
        { "switchover to a lagging candidate, 1 s old: keep it and look again", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000 - 2_000_000)]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewLock, null },
        { "switchover without candidate, one member nofailover and one timed out, 1 s old: keep it", Input(View("node1", members: [RunningMember("node1"), NoFailoverMember("node2"), RunningMember("node3")]) with { Failover = Request("node1", null) }, PrimaryData, Primary, peers: [Peer("node2", 5000), PeerStatus.Unreachable("node3")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewLock, null },
        { "switchover to a candidate whose probe timed out, past loop_wait + retry_timeout: clear the key", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(20) }, HaAction.RenewAndClearFailover, null },
        { "switchover to a lagging candidate, past loop_wait + retry_timeout: clear the key", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000 - 2_000_000)]) with { FailoverPendingFor = TimeSpan.FromSeconds(25) }, HaAction.RenewAndClearFailover, null },
        { "switchover to a timed-out candidate once it answers: graceful demote", Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000)]) with { FailoverPendingFor = TimeSpan.FromSeconds(3) }, HaAction.GracefulSwitchover, "node2" },
        { "scheduled switchover due 2 s ago, candidate timed out: keep it", Input(View("node1") with { Failover = Request("node1", "node2", Now.AddSeconds(-2)) }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node2")]), HaAction.RenewLock, null },
        // permanent refusals still clear at once, however young the request (Patroni)
        { "switchover to a nofailover candidate, 1 s old: clear the key at once", Input(View("node1", members: [RunningMember("node1"), NoFailoverMember("node2"), RunningMember("node3")]) with { Failover = Request("node1", "node2") }, PrimaryData, Primary, peers: [Peer("node2", 5000)]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "switchover to an unknown member, 1 s old: clear the key at once", Input(View("node1") with { Failover = Request("node1", "node9") }, PrimaryData, Primary, peers: [Peer("node2", 5000)]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "sync mode, timed-out candidate not in /sync, 1 s old: clear the key at once", SyncInput(Request("node1", "node2"), [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "sync mode, timed-out candidate in /sync, 1 s old: keep it", SyncInput(Request("node1", "node3"), [PeerStatus.Unreachable("node3")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewLock, null },
        { "paused, no candidate, 1 s old: clear the key at once", Input(View("node1", paused: true) with { Failover = Request("node1", null) }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "switchover to myself, 1 s old: clear the key at once", Input(View("node1") with { Failover = Request("node1", "node1") }, PrimaryData, Primary) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "switchover naming another leader, 1 s old: clear the key at once", Input(View("node1") with { Failover = Request("node2", "node3") }, PrimaryData, Primary, peers: [PeerStatus.Unreachable("node3")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) }, HaAction.RenewAndClearFailover, null },
        { "switchover naming another leader: clear the key", Input(View("node1") with { Failover = Request("node2", "node3") }, PrimaryData, Primary, peers: [Peer("node3", 5000)]), HaAction.RenewAndClearFailover, null },
        { "switchover to myself: clear the key", Input(View("node1") with { Failover = Request("node1", "node1") }, PrimaryData, Primary), HaAction.RenewAndClearFailover, null },
        { "scheduled switchover far ahead: keep renewing", Input(View("node1") with { Failover = Request("node1", "node2", Now.AddMinutes(5)) }, PrimaryData, Primary, peers: [Peer("node2", 5000)]), HaAction.RenewLock, null },
        { "scheduled switchover within loop_wait: demote", Input(View("node1") with { Failover = Request("node1", "node2", Now.AddSeconds(3)) }, PrimaryData, Primary, peers: [Peer("node2", 5000)]), HaAction.GracefulSwitchover, "node2" },
        { "stale scheduled switchover: clear it", Input(View("node1") with { Failover = Request("node1", "node2", Now.AddMinutes(-5)) }, PrimaryData, Primary, peers: [Peer("node2", 5000)]), HaAction.RenewAndClearFailover, null },
        // failover key without a leader
        { "named candidate takes the lock without the lag check", Input(View(optime: 5_000_000) with { Failover = Request("node2", "node1") }, StandbyData, LaggingStandby, peers: [Peer("node3", 9000)]), HaAction.AcquireLock, null },
        { "named candidate, paused: still takes the lock", Input(View(paused: true) with { Failover = Request(null, "node1") }, StandbyData, Standby), HaAction.AcquireLock, null },
        { "another named candidate is reachable: leave it the lock", Input(View() with { Failover = Request("node3", "node2") }, StandbyData, Standby, peers: [Peer("node2", 4000)]), HaAction.Follow, null },
        { "named candidate gone: the healthiest other member races", Input(View() with { Failover = Request("node3", "node2") }, StandbyData, Standby, peers: [PeerStatus.Unreachable("node2"), Peer("node3", 9000)]), HaAction.AcquireLock, null },
        { "nofailover named candidate never takes the lock", Input(View() with { Failover = Request(null, "node1") }, StandbyData, Standby, tags: Tags("""{"nofailover":true}""")), HaAction.Follow, null },
        // self-fencing and a sick primary
        { "hung postmaster under the lock: kill it and release", Input(View("node1"), PrimaryData, Primary) with { PostgresUnhealthyFor = TimeSpan.FromSeconds(20) }, HaAction.ReleaseHungPrimary, null },
        { "briefly unhealthy postmaster: keep the lock", Input(View("node1"), PrimaryData, Primary) with { PostgresUnhealthyFor = TimeSpan.FromSeconds(1) }, HaAction.RenewLock, null },
        { "primary down beyond primary_start_timeout: release the lock", Input(View("node1") with { Config = new VersionedConfig(new DynamicConfig { PrimaryStartTimeout = 30 }, 5, "{}") }, PrimaryData, alive: false) with { PrimaryDownFor = TimeSpan.FromSeconds(31), Dynamic = new DynamicConfig { PrimaryStartTimeout = 30 } }, HaAction.ReleaseLock, null },
        { "primary down, primary_start_timeout 0: release at once", Input(View("node1"), PrimaryData, alive: false) with { PrimaryDownFor = TimeSpan.Zero, Dynamic = new DynamicConfig { PrimaryStartTimeout = 0 } }, HaAction.ReleaseLock, null },
        // rejoin after divergence
        { "former primary behind the leader's timeline: pg_rewind", Input(LeaderOnTimeline2(), PrimaryOnTimeline1, alive: false) with { Rejoin = new RejoinPolicy(true, false, false) }, HaAction.Rewind, "node2" },
        { "rewind failed, no removal allowed: stay stopped", Input(LeaderOnTimeline2(), PrimaryOnTimeline1, alive: false) with { Rejoin = new RejoinPolicy(true, false, false), RewindFailure = "could not find common ancestor" }, HaAction.StayStopped, null },
        { "rewind failed, removal allowed: re-clone", Input(LeaderOnTimeline2(), PrimaryOnTimeline1, alive: false) with { Rejoin = new RejoinPolicy(true, true, false), RewindFailure = "could not find common ancestor" }, HaAction.Reinitialize, "node2" },
        { "no rewind, remove_data_directory_on_diverged_timelines: re-clone", Input(LeaderOnTimeline2(), PrimaryOnTimeline1, alive: false) with { Rejoin = new RejoinPolicy(false, false, true) }, HaAction.Reinitialize, "node2" },
        { "standby not streaming on an old timeline: pg_rewind", Input(LeaderOnTimeline2(), StandbyData, Standby with { ReplicationState = "in archive recovery" }) with { Rejoin = new RejoinPolicy(true, false, false), NotStreamingFor = TimeSpan.FromSeconds(30) }, HaAction.Rewind, "node2" },
        { "standby not streaming, old timeline per pg_control, but not past that timeline's end in history: follow, no rewind", Input(LeaderOnTimeline2() with { History = [new HistoryEntry(1, 6000, "no recovery target specified", null, "node2")] }, StandbyData, Standby with { ReplicationState = "in archive recovery" }) with { Rejoin = new RejoinPolicy(true, false, false), NotStreamingFor = TimeSpan.FromSeconds(30) }, HaAction.Follow, "node2" },
        { "standby not streaming, past its timeline's end in history (diverged): pg_rewind", Input(LeaderOnTimeline2() with { History = [new HistoryEntry(1, 4000, "no recovery target specified", null, "node2")] }, StandbyData, Standby with { ReplicationState = "in archive recovery" }) with { Rejoin = new RejoinPolicy(true, false, false), NotStreamingFor = TimeSpan.FromSeconds(30) }, HaAction.Rewind, "node2" },
        { "stopped standby whose checkpoint is past its timeline's end in history (cannot start): pg_rewind", Input(LeaderOnTimeline2() with { History = [new HistoryEntry(1, 4000, "no recovery target specified", null, "node2")] }, StandbyData with { TimelineId = 1, CheckpointLsn = 5000 }, alive: false) with { Rejoin = new RejoinPolicy(true, false, false) }, HaAction.Rewind, "node2" },
        { "stopped standby on an older timeline but not past its end: start and follow", Input(LeaderOnTimeline2() with { History = [new HistoryEntry(1, 6000, "no recovery target specified", null, "node2")] }, StandbyData with { TimelineId = 1, CheckpointLsn = 5000 }, alive: false) with { Rejoin = new RejoinPolicy(true, false, false) }, HaAction.StartAsReplica, "node2" },
        { "standby briefly not streaming after a failover: just follow", Input(LeaderOnTimeline2(), StandbyData, Standby with { ReplicationState = "in archive recovery" }) with { Rejoin = new RejoinPolicy(true, false, false), NotStreamingFor = TimeSpan.FromSeconds(1) }, HaAction.Follow, "node2" },
    };

    private static readonly DataDirectoryInfo PrimaryOnTimeline1 = PrimaryData with { TimelineId = 1 };

    private static ClusterView LeaderOnTimeline2()
    {
        var leader = RunningMember("node2");
        leader = leader with { Data = leader.Data with { Role = "master", Timeline = 2 } };
        return View("node2", members: [RunningMember("node1"), leader, RunningMember("node3")]);
    }

    private static FailoverRequest Request(string? leader, string? candidate, DateTimeOffset? at = null) => new(leader, candidate, at, 7);

    private static PeerStatus Peer(string name, long wal) => new(name, true, false, wal, false, 1);

    private static Member NoFailoverMember(string name)
    {
        var member = RunningMember(name);
        return member with { Data = member.Data with { Tags = new JsonObject { ["nofailover"] = true } } };
    }

    private static readonly DynamicConfig SyncOn = new() { SynchronousMode = "on" };

    /// <summary>node1 leads in synchronous mode; /sync names node3 only.</summary>
    private static HaInput SyncInput(FailoverRequest request, IReadOnlyList<PeerStatus> peers) =>
        Input(View("node1") with { Failover = request, Config = new VersionedConfig(SyncOn, 5, "{}"), Sync = new SyncState("node1", ["node3"], 1, 3) },
            PrimaryData, Primary, peers: peers) with { Dynamic = SyncOn };

    [Fact]
    public void A_switchover_kept_for_a_transient_refusal_is_looked_at_again_soon_and_says_why()
    {
        var kept = HaDecider.Decide(Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary,
            peers: [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(1) });
        Assert.Equal(TimeSpan.FromSeconds(0.5), kept.RecheckAfter);
        Assert.Contains("node2: did not answer GET http://127.0.0.12:8008/patroni in time", kept.Reason);
        Assert.Contains("1.0 s of 20 s", kept.Reason);

        var dropped = HaDecider.Decide(Input(View("node1") with { Failover = Request("node1", "node2") }, PrimaryData, Primary,
            peers: [PeerStatus.Unreachable("node2")]) with { FailoverPendingFor = TimeSpan.FromSeconds(21) });
        Assert.Null(dropped.RecheckAfter);
        Assert.Equal("manual failover: no healthy members found; node2: did not answer GET http://127.0.0.12:8008/patroni in time", dropped.Reason);
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Decides(string situation, HaInput input, HaAction expected, string? target)
    {
        var decision = HaDecider.Decide(input);
        Assert.True(expected == decision.Action, $"{situation}: expected {expected}, got {decision}");
        Assert.Equal(target, decision.Target);
        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
    }

    [Fact]
    public void Steady_state_reasons_read_like_patroni()
    {
        Assert.Equal("no action. I am (node1), the leader with the lock",
            HaDecider.Decide(Input(View("node1"), PrimaryData, Primary)).Reason);
        Assert.Equal("no action. I am (node1), a secondary, and following a leader (node2)",
            HaDecider.Decide(Input(View("node2"), StandbyData, Standby)).Reason);
    }

    [Fact]
    public void Lag_refusal_names_the_measured_lag_and_the_limit()
    {
        var reason = HaDecider.Decide(Input(View(optime: 5_000_000), StandbyData, LaggingStandby)).Reason;
        Assert.Contains("lag 4999900 bytes > maximum_lag_on_failover 1048576", reason);
    }

    [Fact]
    public void Mismatch_names_both_system_identifiers()
    {
        var reason = HaDecider.Decide(Input(View("node2"), ForeignData, alive: false)).Reason;
        Assert.Contains("1234567890123456789", reason);
        Assert.Contains(Sysid, reason);
    }
}
