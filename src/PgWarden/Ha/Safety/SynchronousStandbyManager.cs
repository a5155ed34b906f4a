using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha.Safety;

/// <summary>
/// The leader's side of synchronous_mode (Patroni's process_sync_replication, compat §5.7), run after each
/// successful renewal. The ordering invariant: /sync never names a standby that might not have every acknowledged
/// commit. Removing: shrink /sync first, then synchronous_standby_names. Adding: synchronous_standby_names first,
/// and /sync only once pg_stat_replication reports the standby 'sync'.
/// </summary>
internal sealed class SynchronousStandbyManager(string me, IDcs dcs, IPostgresInstance pg, ILogger log, TimeProvider time)
{
    /// <summary>How long to wait for PostgreSQL to report a newly listed standby as sync in the same cycle.</summary>
    private static readonly TimeSpan ActivationWait = TimeSpan.FromSeconds(2);

    public async Task ProcessAsync(ClusterView view, DynamicConfig dynamic, PostgresProbe probe, CancellationToken ct)
    {
        try
        {
            if (!SynchronousReplication.IsOn(dynamic))
            {
                await DisableAsync(view, ct);
                return;
            }
            await EnableAsync(view, dynamic, probe, ct);
        }
        catch (Exception e) when (e is DcsException or Npgsql.NpgsqlException or PostgresCommandException or IOException)
        {
            SafetyLog.SyncStepFailed(log, e.Message);
        }
    }

    private async Task DisableAsync(ClusterView view, CancellationToken ct)
    {
        if (view.Sync is { } sync && !string.IsNullOrEmpty(sync.Leader) && await dcs.SetSyncAsync(null, sync.ModRevision, ct))
            SafetyLog.SyncDisabled(log);
        if (pg.SynchronousStandbyNames is not null) await pg.SetSynchronousStandbyNamesAsync(null, ct);
    }

    private async Task EnableAsync(ClusterView view, DynamicConfig dynamic, PostgresProbe probe, CancellationToken ct)
    {
        var strict = SynchronousReplication.IsStrict(dynamic);
        var sync = view.Sync;
        var current = sync is not null && sync.Leader == me ? sync.SyncStandbys.ToHashSet(StringComparer.OrdinalIgnoreCase) : [];
        var (picked, allowPromote) = SynchronousReplication.Pick(view, me, probe.Replication, dynamic.SynchronousNodeCount);
        var pickedSet = picked.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var wanted = pickedSet.Count == 0 && strict ? "*" : SynchronousReplication.Format(picked);
        var managed = pg.SynchronousStandbyNames;

        // The /sync key must name us even with no standby yet: it says who may be promoted.
        if (sync is null || sync.Leader != me)
        {
            if (!await dcs.SetSyncAsync(SynchronousReplication.SyncKeyJson(me, []), sync?.ModRevision, ct))
            {
                SafetyLog.SyncKeyRaced(log);
                return;
            }
            sync = null;
            current = [];
        }
        if (pickedSet.SetEquals(current) && managed == wanted) return;

        // 1. Removing: /sync shrinks to the members that stay and are confirmed sync, before PostgreSQL changes.
        var common = current.Where(n => pickedSet.Contains(n) && allowPromote.Contains(n, StringComparer.OrdinalIgnoreCase)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        long? version = sync?.ModRevision;
        if (!common.SetEquals(current))
        {
            SafetyLog.ShrinkingSync(log, string.Join(",", current), string.Join(",", common));
            if (!await dcs.SetSyncAsync(SynchronousReplication.SyncKeyJson(me, common), version, ct))
            {
                SafetyLog.SyncKeyRaced(log);
                return;
            }
            version = null;
        }

        // 2. synchronous_standby_names ('*' in strict mode with nobody: commits wait rather than go unreplicated).
        if (managed != wanted)
        {
            if (wanted == "*") SafetyLog.NoStandbysStrict(log);
            SafetyLog.AssigningSync(log, string.Join(",", picked), wanted);
            await pg.SetSynchronousStandbyNamesAsync(wanted, ct);
        }

        // 3. Adding: only standbys PostgreSQL reports 'sync' under the new setting are published.
        var confirmed = allowPromote.Where(pickedSet.Contains).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (pickedSet.Count > 0 && !pickedSet.SetEquals(confirmed))
        {
            var deadline = time.GetTimestamp();
            while (time.GetElapsedTime(deadline) < ActivationWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, ct);
                if (await pg.ProbeAsync(ct) is not { InRecovery: false } fresh) break;
                var (_, nowSync) = SynchronousReplication.Pick(view, me, fresh.Replication, dynamic.SynchronousNodeCount);
                confirmed = nowSync.Where(pickedSet.Contains).ToHashSet(StringComparer.OrdinalIgnoreCase);
                if (pickedSet.SetEquals(confirmed)) break;
            }
        }
        if (!confirmed.SetEquals(common))
        {
            // CAS against the key as this cycle read it; right after our own shrink above, our write is the latest.
            if (!await dcs.SetSyncAsync(SynchronousReplication.SyncKeyJson(me, confirmed), version, ct))
            {
                SafetyLog.SyncKeyRaced(log);
                return;
            }
            SafetyLog.SyncAssigned(log, string.Join(",", confirmed));
        }
    }

    /// <summary>Before promotion: /sync = {leader: me, sync_standby: null} (CAS), then '' or '*' (strict). False: postpone.</summary>
    public async Task<bool> PrepareForPromotionAsync(ClusterView view, DynamicConfig dynamic, CancellationToken ct)
    {
        if (!SynchronousReplication.IsOn(dynamic)) return true;
        if (!await dcs.SetSyncAsync(SynchronousReplication.SyncKeyJson(me, []), view.Sync?.ModRevision, ct))
        {
            SafetyLog.PromotionPostponed(log);
            return false;
        }
        await pg.SetSynchronousStandbyNamesAsync(SynchronousReplication.IsStrict(dynamic) ? "*" : "", ct);
        return true;
    }
}
