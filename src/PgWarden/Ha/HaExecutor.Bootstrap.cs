using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>HaExecutor: initdb of a new cluster and cloning of a replica.</summary>
internal sealed partial class HaExecutor
{
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
            // A new primary in strict synchronous mode runs with '*' before any client can connect: no commit is
            // acknowledged unreplicated (after our own role setup, which would otherwise wait for a standby forever).
            if (SynchronousReplication.IsStrict(dynamic)) await pg.SetSynchronousStandbyNamesAsync("*", ct);
            var sysid = pg.InspectDataDirectory().SystemIdentifier
                ?? throw new InvalidOperationException("pg_controldata reported no system identifier after initdb");

            // Order as Patroni: the system identifier, the dynamic config, then the lock that wakes the replicas.
            await dcs.InitializeAsync(create: false, sysid, ct);
            if (config.Bootstrap?.DcsJson is { } dcsJson) await dcs.SetConfigAsync(dcsJson, null, ct);
            // The member key says "running" before the lock appears: replicas woken by the lock can clone at once.
            var probe = await pg.ProbeAsync(ct);
            await dcs.TouchMemberAsync(MemberKeyBuilder.Build(config, "running", "master", probe, false, false), ct);
            var taking = time.GetTimestamp();
            if (!safety.Watchdog.Activate(dynamic))
                throw new InvalidOperationException("the required watchdog could not be activated");
            await dcs.TakeLeaderAsync(ct);
            state.RenewedAtTimestamp = taking;
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
}
