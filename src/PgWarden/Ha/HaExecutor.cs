using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// Carries out one <see cref="Decision"/> against PostgreSQL and the DCS. Role-changing DCS writes are
/// compare-and-set; a failure part-way leaves the DCS as it was (bootstrap cancels its initialize key).
/// </summary>
internal sealed class HaExecutor(AgentConfig config, IDcs dcs, IPostgresInstance pg, NodeStatusBoard board,
    TimeProvider time, ILogger log, HaRuntimeState state)
{
    private TimeSpan StartTimeout => TimeSpan.FromSeconds(Math.Max(config.Postgresql.PgCtlTimeout, 10));
    private TimeSpan StopTimeout => TimeSpan.FromSeconds(Math.Max(config.Postgresql.PgCtlTimeout, 10));

    /// <summary>Returns an exit code when the agent must stop.</summary>
    public async Task<int?> ExecuteAsync(Decision decision, HaInput input, CancellationToken ct)
    {
        switch (decision.Action)
        {
            case HaAction.Nothing:
            case HaAction.WaitForDcs:
                return null;
            case HaAction.FatalSystemIdMismatch:
                HaLog.Fatal(log, decision.Reason);
                return 1;
            case HaAction.DemoteOffline:
                await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct);
                return null;
            case HaAction.RaceForBootstrap:
                return await BootstrapAsync(input, ct);
            case HaAction.CloneFromMember:
                await CloneAsync(input.View!, decision.Target!, ct);
                return null;
            case HaAction.ClaimInitialize:
                await dcs.InitializeAsync(create: true, input.DataDir.SystemIdentifier ?? "", ct);
                return null;
            case HaAction.StartAsPrimary:
                await StartAsync(null, ct);
                return null;
            case HaAction.StartAsReplica:
                await StartAsync(UpstreamOf(input.View!, decision.Target), ct);
                return null;
            case HaAction.RenewLock:
                await RenewAsync(input, ct);
                return null;
            case HaAction.Promote:
                if (await RenewAsync(input, ct)) await PromoteAsync(input, ct);
                return null;
            case HaAction.AcquireLock:
                await AcquireAsync(input, ct);
                return null;
            case HaAction.Follow:
                await FollowAsync(input, decision.Target, ct);
                return null;
            case HaAction.DemoteToReplica:
                await DemoteAsync(StopMode.Immediate, UpstreamOf(input.View!, decision.Target), ct);
                return null;
            default:
                throw new UnreachableException($"unhandled HA action {decision.Action}");
        }
    }

    private RecoveryTarget UpstreamOf(ClusterView view, string? member)
    {
        if (member is null || view.FindMember(member) is not { } m) return RecoveryTarget.NoUpstream;
        var (host, port) = m.Data.ParseConnUrl();
        if (host is null) return RecoveryTarget.NoUpstream;
        return new RecoveryTarget(host, port, state.Dynamic.UseSlots ? SlotNames.FromMemberName(config.Name) : null);
    }

    private async Task<int?> BootstrapAsync(HaInput input, CancellationToken ct)
    {
        if (!await dcs.InitializeAsync(create: true, "", ct))
        {
            HaLog.LostBootstrapRace(log);
            return null;
        }

        var started = time.GetTimestamp();
        SetActionState("initializing new cluster", "uninitialized");
        try
        {
            var dynamic = state.Dynamic;
            await pg.InitDbAsync(ct);
            await pg.WriteConfigurationAsync(null, dynamic, ct);
            if (!await pg.StartAsync(StartTimeout, ct))
                throw new InvalidOperationException("postgres did not start after initdb");
            await pg.PostBootstrapAsync(ct);
            var sysid = pg.InspectDataDirectory().SystemIdentifier
                ?? throw new InvalidOperationException("pg_controldata reported no system identifier after initdb");

            // Order as Patroni: the system identifier, the dynamic config, then the lock that wakes the replicas.
            await dcs.InitializeAsync(create: false, sysid, ct);
            if (config.Bootstrap?.DcsJson is { } dcsJson) await dcs.SetConfigAsync(dcsJson, null, ct);
            // The member key says "running" before the lock appears: replicas woken by the lock can clone at once.
            var probe = await pg.ProbeAsync(ct);
            await dcs.TouchMemberAsync(MemberKeyBuilder.Build(config, "running", "master", probe, false, false), ct);
            await dcs.TakeLeaderAsync(ct);
            state.LastLeaderRenewal = time.GetUtcNow();
            state.SystemIdentifier = sysid;
            HaLog.Bootstrapped(log, sysid, time.GetElapsedTime(started).TotalSeconds);
            ReleaseActionState("running", "master");
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.BootstrapFailed(log, e.Message, e);
            try { await dcs.CancelInitializationAsync(CancellationToken.None); } catch (DcsException) { }
            try { await pg.StopAsync(StopMode.Immediate, StopTimeout, CancellationToken.None); } catch (Exception) { }
            MoveAsideFailedDataDirectory();
            ReleaseActionState("initdb failed", "uninitialized");
            return 1;
        }
    }

    /// <summary>Patroni renames a failed bootstrap's data directory to &lt;path&gt;.failed so nothing half-made is reused.</summary>
    private void MoveAsideFailedDataDirectory()
    {
        var dir = config.Postgresql.DataDir;
        if (!Directory.Exists(dir)) return;
        var failed = dir.TrimEnd('/') + ".failed";
        if (Directory.Exists(failed)) Directory.Delete(failed, recursive: true);
        Directory.Move(dir, failed);
    }

    private async Task CloneAsync(ClusterView view, string source, CancellationToken ct)
    {
        var member = view.FindMember(source);
        var (host, port) = member?.Data.ParseConnUrl() ?? (null, 0);
        if (host is null) return;

        // Publish "creating replica" before the long copy so /patroni and list show it.
        SetActionState("creating replica", "uninitialized");
        board.Publish(state.ToNodeStatus(config, board.Current));
        try
        {
            await dcs.TouchMemberAsync(MemberKeyBuilder.Build(config, state.PgState, state.Role, null, false, false), ct);
        }
        catch (DcsException) { }

        var started = time.GetTimestamp();
        try
        {
            var slot = state.Dynamic.UseSlots ? SlotNames.FromMemberName(config.Name) : null;
            await pg.CloneAsync(host, port, slot, ct);
            HaLog.Cloned(log, source, time.GetElapsedTime(started).TotalSeconds);
            ReleaseActionState("stopped", "replica");
            var upstream = UpstreamOf(view, view.Leader?.Name == source || view.Leader is null ? source : view.Leader.Name);
            await StartAsync(upstream, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.CloneFailed(log, source, e.Message);
            ReleaseActionState("stopped", "uninitialized");
        }
    }

    private async Task StartAsync(RecoveryTarget? target, CancellationToken ct)
    {
        SetActionState("starting", target is null ? "master" : "replica");
        board.Publish(state.ToNodeStatus(config, board.Current));
        await pg.WriteConfigurationAsync(target, state.Dynamic, ct);
        var ok = await pg.StartAsync(StartTimeout, ct);
        if (!ok) HaLog.StartTimedOut(log, (int)StartTimeout.TotalSeconds);
        ReleaseActionState(ok ? "running" : "start failed", target is null ? "master" : "replica");
    }

    /// <summary>Renew the lock; on loss demote at once (another node may already be promoting).</summary>
    private async Task<bool> RenewAsync(HaInput input, CancellationToken ct)
    {
        bool renewed;
        try
        {
            renewed = await dcs.UpdateLeaderAsync(input.View?.Leader, ct);
        }
        catch (DcsException e)
        {
            HaLog.DcsUnreachable(log, e.Kind.ToString(), e.Message);
            if (input.Probe is { InRecovery: false }) await DemoteAsync(StopMode.Fast, RecoveryTarget.NoUpstream, ct);
            return false;
        }

        if (!renewed)
        {
            HaLog.LostLock(log);
            state.LastLeaderRenewal = null;
            if (input.Probe is { InRecovery: false }) await DemoteAsync(StopMode.Immediate, RecoveryTarget.NoUpstream, ct);
            return false;
        }

        state.LastLeaderRenewal = time.GetUtcNow();
        if (input.Probe is { InRecovery: false } probe)
        {
            await PublishLeaderStateAsync(input.View!, probe, ct);
        }
        return true;
    }

    /// <summary>The leader's per-cycle duties: status optime, member slots, timeline history.</summary>
    private async Task PublishLeaderStateAsync(ClusterView view, PostgresProbe probe, CancellationToken ct)
    {
        var slots = state.Dynamic.UseSlots
            ? view.Members.Where(m => m.Name != config.Name && m.Data.Tags?["nostream"] is null
                                      && (m.Data.Tags?["replicatefrom"]?.ToString() is not { } from || view.FindMember(from) is null))
                .Select(m => SlotNames.FromMemberName(m.Name)).ToHashSet()
            : [];
        await pg.SyncReplicationSlotsAsync(slots, ct);

        if (probe.WalFlushLsn is { } lsn && view.Status?.Optime != lsn)
            await dcs.WriteStatusAsync(lsn, null, ct);

        if (probe.Timeline > 1 && (view.History is null || view.History.Count < probe.Timeline - 1))
        {
            var lines = await pg.ReadTimelineHistoryAsync(probe.Timeline, ct);
            var known = view.History ?? [];
            var json = new System.Text.Json.Nodes.JsonArray();
            for (var i = 0; i < lines.Count; i++)
            {
                var (tl, switchLsn, reason) = lines[i];
                var prev = i < known.Count ? known[i] : null;
                var isNewest = i == lines.Count - 1;
                var timestamp = prev?.Timestamp ?? (isNewest ? time.GetLocalNow().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz") : null);
                var line = new System.Text.Json.Nodes.JsonArray(tl, switchLsn, reason);
                if (timestamp is not null) line.Add(timestamp);
                if (prev?.NewLeader is { } nl) line.Add(nl);
                else if (isNewest) line.Add(config.Name);
                json.Add(line);
            }
            await dcs.SetHistoryAsync(json.ToJsonString(), ct);
        }
    }

    private async Task PromoteAsync(HaInput input, CancellationToken ct)
    {
        SetActionState("running", "promoted");
        try
        {
            if (!await pg.PromoteAsync(StartTimeout, ct))
            {
                HaLog.PromoteFailed(log, "the server stayed in recovery");
                ReleaseActionState("running", "replica");
                return;
            }
            // Clean the recovery settings so a restart comes back as a primary.
            await pg.WriteConfigurationAsync(null, state.Dynamic, ct);
            await pg.ReloadAsync(ct);
            ReleaseActionState("running", "master");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.PromoteFailed(log, e.Message);
            ReleaseActionState("running", "replica");
        }
    }

    private async Task AcquireAsync(HaInput input, CancellationToken ct)
    {
        if (!await dcs.AttemptToAcquireLeaderAsync(ct))
        {
            HaLog.LostLeaderRace(log, "another member");
            return;
        }
        state.LastLeaderRenewal = time.GetUtcNow();
        // A new leader clears any failover request (Patroni writes {} without compare).
        if (input.View?.Failover is { IsEmpty: false }) await dcs.SetFailoverAsync("{}", null, ct);
        if (input.Probe is { InRecovery: true }) await PromoteAsync(input, ct);
    }

    private async Task FollowAsync(HaInput input, string? target, CancellationToken ct)
    {
        if (target is null) return; // no leader: keep streaming settings as they are until one appears
        var upstream = UpstreamOf(input.View!, target);
        if (await pg.WriteConfigurationAsync(upstream, state.Dynamic, ct))
        {
            await pg.ReloadAsync(ct);
            HaLog.Repointed(log, $"{upstream.Host}:{upstream.Port}");
        }
    }

    private async Task DemoteAsync(StopMode mode, RecoveryTarget target, CancellationToken ct)
    {
        SetActionState("stopping", "demoted");
        board.Publish(state.ToNodeStatus(config, board.Current) with { LastLeaderRenewal = null });
        state.LastLeaderRenewal = null;
        await pg.StopAsync(mode, StopTimeout, ct);
        state.MarkStopped();
        ReleaseActionState("stopped", "demoted");
        await StartAsync(target, ct);
    }

    /// <summary>SIGTERM: stop PostgreSQL cleanly, then (as leader) release the lock so replicas race at once.</summary>
    public async Task ShutdownAsync()
    {
        var wasLeader = state.View?.Leader?.Name == config.Name;
        var paused = state.View?.Config?.Value.Pause ?? false;
        if (paused) return; // Patroni leaves both PostgreSQL and the lock alone in maintenance mode.
        HaLog.ShuttingDown(log, wasLeader ? " (leader)" : "");
        using var cts = new CancellationTokenSource(StopTimeout + TimeSpan.FromSeconds(10));
        try
        {
            await pg.StopAsync(StopMode.Fast, StopTimeout, cts.Token);
            state.MarkStopped();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            HaLog.CycleFailed(log, e.Message, e);
        }
        if (!wasLeader) return;
        try
        {
            var checkpoint = pg.InspectDataDirectory().CheckpointLsn;
            if (await dcs.DeleteLeaderAsync(checkpoint, cts.Token)) HaLog.LeaderReleased(log);
        }
        catch (Exception e) when (e is DcsException or OperationCanceledException)
        {
            HaLog.LeaderReleaseFailed(log, e.Message);
        }
    }

    private void SetActionState(string pgState, string role)
    {
        state.ActionOwnsState = true;
        state.PgState = pgState;
        state.Role = role;
    }

    private void ReleaseActionState(string pgState, string role)
    {
        state.PgState = pgState;
        state.Role = role;
        state.ActionOwnsState = false;
    }
}
