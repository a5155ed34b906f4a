using System.Text.Json.Nodes;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Tests.Ha;

/// <summary>
/// Decision rows for the data-safety rules (compat §5.5, §5.7, §5.8, §5.14): synchronous mode, failsafe mode and a
/// required watchdog. Same shape as <see cref="HaDeciderTests"/>: a named situation and the action it must lead to.
/// </summary>
public sealed class HaDeciderSafetyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 4, 0, 0, TimeSpan.Zero);
    private const string Sysid = "7710836552808695120";

    private static readonly DataDirectoryInfo PrimaryData = new() { HasData = true, SystemIdentifier = Sysid, ClusterState = "in production" };
    private static readonly DataDirectoryInfo StandbyData = new() { HasData = true, SystemIdentifier = Sysid, ClusterState = "in archive recovery", IsStandbyConfigured = true };
    private static readonly DataDirectoryInfo Empty = new() { HasData = false };
    private static readonly PostgresProbe Primary = new() { InRecovery = false, ServerVersion = 150018, Timeline = 1, WalFlushLsn = 5000 };
    private static readonly PostgresProbe Standby = new() { InRecovery = true, ServerVersion = 150018, Timeline = 1, ReceiveLsn = 5000, ReplayLsn = 5000, ReplicationState = "streaming" };

    private static readonly DynamicConfig Sync = new() { SynchronousMode = "on" };
    private static readonly DynamicConfig Strict = new() { SynchronousMode = "on", SynchronousModeStrict = true };
    private static readonly DynamicConfig Failsafe = new() { FailsafeMode = true };

    private static Member M(string name) => TestMembers.Running(name);

    private static ClusterView View(string? leader = null, SyncState? sync = null, IReadOnlyDictionary<string, string>? failsafe = null,
        FailoverRequest? failover = null) => new()
    {
        Initialize = Sysid,
        Leader = leader is null ? null : new LeaderKey(leader, 10, 99),
        Members = [M("node1"), M("node2"), M("node3")],
        Sync = sync,
        Failsafe = failsafe,
        Failover = failover,
    };

    private static SyncState SyncKey(string leader, params string[] standbys) => new(leader, standbys, 0, 42);

    private static readonly Dictionary<string, string> Topology = new()
    {
        ["node1"] = "http://127.0.0.11:8008/patroni", ["node2"] = "http://127.0.0.12:8008/patroni", ["node3"] = "http://127.0.0.13:8008/patroni",
    };

    private static PeerStatus Peer(string name, long wal) => new(name, true, false, wal, false, 1);

    private static HaInput Input(ClusterView? view, DataDirectoryInfo data, PostgresProbe? probe, DynamicConfig dynamic,
        IReadOnlyList<PeerStatus>? peers = null) => new()
    {
        Name = "node1",
        View = view,
        DataDir = data,
        PostmasterAlive = probe is not null,
        Probe = probe,
        Peers = peers ?? [],
        Dynamic = dynamic,
        Now = Now,
    };

    public static TheoryData<string, HaInput, HaAction, string?> Rules() => new()
    {
        // synchronous_mode (§5.5, §5.7)
        { "sync mode: the /sync standby races", Input(View(sync: SyncKey("node2", "node1")), StandbyData, Standby, Sync), HaAction.AcquireLock, null },
        { "sync mode: an async standby never races", Input(View(sync: SyncKey("node2", "node3")), StandbyData, Standby, Sync), HaAction.Follow, null },
        { "sync mode: the former /sync leader may race", Input(View(sync: SyncKey("node1", "node3")), StandbyData, Standby, Sync, [Peer("node3", 4000)]), HaAction.AcquireLock, null },
        { "sync mode, /sync without standby: only its leader is promotable", Input(View(sync: SyncKey("node2")), StandbyData, Standby, Strict), HaAction.Follow, null },
        { "sync mode: an async peer ahead does not block the sync standby", Input(View(sync: SyncKey("node2", "node1")), StandbyData, Standby, Sync, [Peer("node3", 9000)]), HaAction.AcquireLock, null },
        { "sync mode: a sync peer ahead still blocks", Input(View(sync: SyncKey("node2", "node1,node3".Split(','))), StandbyData, Standby, Sync, [Peer("node3", 9000)]), HaAction.Follow, null },
        { "sync mode, empty /sync key: anyone healthy may race", Input(View(sync: new SyncState(null, [], 0, 3)), StandbyData, Standby, Sync), HaAction.AcquireLock, null },
        { "sync mode off: /sync is ignored", Input(View(sync: SyncKey("node2", "node3")), StandbyData, Standby, DynamicConfig.Default), HaAction.AcquireLock, null },
        { "sync mode, candidate gone after manual failover: async node still stays out", Input(View(sync: SyncKey("node3", "node2"), failover: new FailoverRequest("node3", "node2", null, 7)), StandbyData, Standby, Sync, [PeerStatus.Unreachable("node2")]), HaAction.Follow, null },
        { "switchover in sync mode: async candidate refused, key cleared", Input(View("node1", sync: SyncKey("node1", "node2"), failover: new FailoverRequest("node1", "node3", null, 7)), PrimaryData, Primary, Sync, [Peer("node3", 5000)]), HaAction.RenewAndClearFailover, null },
        { "switchover in sync mode: to the sync standby", Input(View("node1", sync: SyncKey("node1", "node2"), failover: new FailoverRequest("node1", null, null, 7)), PrimaryData, Primary, Sync, [Peer("node2", 4000), Peer("node3", 5000)]), HaAction.GracefulSwitchover, "node2" },
        // failsafe_mode (§5.8)
        { "dcs down, failsafe off: demote", Input(null, PrimaryData, Primary, DynamicConfig.Default) with { Failsafe = new FailsafeOutcome(true, "x", 2) }, HaAction.DemoteOffline, null },
        { "dcs down, failsafe, all members confirm: stay primary", Input(null, PrimaryData, Primary, Failsafe) with { Failsafe = new FailsafeOutcome(true, "all accepted", 2) }, HaAction.FailsafeHold, null },
        { "dcs down, failsafe, one member unreachable: demote", Input(null, PrimaryData, Primary, Failsafe) with { Failsafe = new FailsafeOutcome(false, "node3: timeout", 2) }, HaAction.DemoteOffline, null },
        { "dcs down, failsafe, not in topology: demote", Input(null, PrimaryData, Primary, Failsafe) with { Failsafe = new FailsafeOutcome(false, "node1 is not in /failsafe", 0) }, HaAction.DemoteOffline, null },
        { "dcs down, failsafe, replica: wait", Input(null, StandbyData, Standby, Failsafe), HaAction.WaitForDcs, null },
        { "failsafe: a primary confirmed itself less than ttl ago: do not race", Input(View(failsafe: Topology), StandbyData, Standby, Failsafe) with { FailsafeLeader = "node2" }, HaAction.Follow, null },
        { "failsafe: not in a non-empty /failsafe: do not race", Input(View(failsafe: new Dictionary<string, string> { ["node2"] = "http://x/patroni" }), StandbyData, Standby, Failsafe), HaAction.Follow, null },
        { "failsafe: in /failsafe and healthiest: race", Input(View(failsafe: Topology), StandbyData, Standby, Failsafe), HaAction.AcquireLock, null },
        // watchdog (§5.14)
        { "required watchdog unusable: never race", Input(View(), StandbyData, Standby, DynamicConfig.Default) with { WatchdogUnusable = "no device" }, HaAction.Follow, null },
        { "required watchdog unusable while holding the lock as standby: release, no promotion", Input(View("node1"), StandbyData, Standby, DynamicConfig.Default) with { WatchdogUnusable = "no device" }, HaAction.ReleaseLock, null },
        { "required watchdog unusable on the running primary: demote and release", Input(View("node1"), PrimaryData, Primary, DynamicConfig.Default) with { WatchdogUnusable = "no device" }, HaAction.DemoteAndReleaseLock, null },
        { "required watchdog unusable: do not bootstrap", Input(View() with { Initialize = null }, Empty, null, DynamicConfig.Default) with { WatchdogUnusable = "no device" }, HaAction.Nothing, null },
        { "watchdog fine: primary renews", Input(View("node1"), PrimaryData, Primary, DynamicConfig.Default), HaAction.RenewLock, null },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Decides(string situation, HaInput input, HaAction expected, string? target)
    {
        var decision = HaDecider.Decide(input);
        Assert.True(decision.Action == expected, $"{situation}: expected {expected}, got {decision}");
        if (target is not null) Assert.Equal(target, decision.Target);
    }

    [Fact]
    public void Async_refusal_names_the_sync_key()
    {
        var d = HaDecider.Decide(Input(View(sync: SyncKey("node2", "node3")), StandbyData, Standby, Sync));
        Assert.Contains("not a synchronous standby", d.Reason);
        Assert.Contains("node3", d.Reason);
    }
}
