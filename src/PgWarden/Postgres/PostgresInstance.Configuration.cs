using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgWarden.Config;

namespace PgWarden.Postgres;

/// <summary>postgresql.conf, pg_hba.conf and pgpass from the YAML and the dynamic configuration; reloads, synchronous_standby_names, slots.</summary>
public sealed partial class PostgresInstance
{
    public async Task<bool> WriteConfigurationAsync(RecoveryTarget? target, DynamicConfig dynamic, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dynamic);
        var changed = false;
        _owner.CreateDirectory(ConfigDir, OwnerOnlyDir);
        var baseConf = Path.Combine(ConfigDir, "postgresql.base.conf");
        if (!File.Exists(baseConf))
        {
            // Patroni's layout: the original postgresql.conf becomes the included base file, once.
            if (File.Exists(ConfFile)) File.Move(ConfFile, baseConf);
            else await _owner.WriteIfChangedAsync(baseConf, "", OwnerOnly, ct).ConfigureAwait(false);
            changed = true;
        }

        var controlSettings = target is not null ? InspectDataDirectory().Settings : null;
        var parameters = PostgresParameters.Build(_config, dynamic, target, PgpassPath, controlSettings);
        // synchronous_mode: the value the HA loop manages wins over the user's (Patroni's get_server_parameters).
        if (Volatile.Read(ref _synchronousStandbyNames) is { } managed) parameters.Values["synchronous_standby_names"] = managed;
        _lastWritten = (target, dynamic);
        foreach (var warning in parameters.Warnings) _logger.LogWarning("{Warning}", warning);
        changed |= await _owner.WriteIfChangedAsync(ConfFile, parameters.RenderConf(), OwnerOnly, ct).ConfigureAwait(false);
        _commandLineOptions = parameters.CommandLineOptions();

        var hbaFile = parameters.Values["hba_file"];
        if (hbaFile == Path.Combine(ConfigDir, "pg_hba.conf"))
            changed |= await _owner.WriteIfChangedAsync(hbaFile, PgHbaFile.Render(_config, dynamic), OwnerOnly, ct).ConfigureAwait(false);
        var identFile = parameters.Values["ident_file"];
        if (_config.Postgresql.PgIdent.Count > 0)
            changed |= await _owner.WriteIfChangedAsync(identFile, string.Join('\n', _config.Postgresql.PgIdent) + "\n", OwnerOnly, ct).ConfigureAwait(false);
        else if (!File.Exists(identFile))
            changed |= await _owner.WriteIfChangedAsync(identFile, "", OwnerOnly, ct).ConfigureAwait(false);

        var standbySignal = Path.Combine(DataDir, "standby.signal");
        if (target is not null && !File.Exists(standbySignal))
            changed |= await _owner.WriteIfChangedAsync(standbySignal, "", OwnerOnly, ct).ConfigureAwait(false);
        else if (target is null && File.Exists(standbySignal))
        {
            File.Delete(standbySignal);
            changed = true;
        }

        changed |= await RemoveRecoveryParametersFromAutoConfAsync(ct).ConfigureAwait(false);
        await WritePgpassAsync(ct).ConfigureAwait(false);
        return changed;
    }

    private string? _synchronousStandbyNames;

    private (RecoveryTarget? Target, DynamicConfig Dynamic)? _lastWritten;

    public string? SynchronousStandbyNames => Volatile.Read(ref _synchronousStandbyNames);

    public async Task SetSynchronousStandbyNamesAsync(string? value, CancellationToken ct)
    {
        var previous = Interlocked.Exchange(ref _synchronousStandbyNames, value);
        if (previous == value || _lastWritten is not { } last) return;
        if (await WriteConfigurationAsync(last.Target, last.Dynamic, ct).ConfigureAwait(false) && IsPostmasterAlive())
            await ReloadAsync(ct).ConfigureAwait(false);
    }

    public async Task ReloadAsync(CancellationToken ct)
    {
        var result = await _runner.RunAsync("pg_ctl", ["reload", "-D", DataDir], TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new PostgresCommandException($"pg_ctl reload -D {DataDir} failed with exit code {result.ExitCode}: {result.StdErr.Trim()}");
    }

    public async Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> slotNames, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(slotNames);
        foreach (var name in slotNames)
        {
            if (!SlotNames.IsValid(name))
                throw new ArgumentException($"Replication slot name '{name}' is invalid; expected ^[a-z0-9_]{{1,63}}$.", nameof(slotNames));
        }
        await using var conn = await _connections.OpenAdminAsync(ct).ConfigureAwait(false);
        var existing = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT slot_name::text, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) existing[reader.GetString(0)] = reader.GetBoolean(1);
        }
        foreach (var name in slotNames.Where(n => !existing.ContainsKey(n)))
        {
            _logger.LogInformation("Creating physical replication slot {Slot}", name);
            await ExecuteAsync(conn, "SELECT pg_catalog.pg_create_physical_replication_slot($1, true)", ct, name).ConfigureAwait(false);
        }
        foreach (var (name, active) in existing)
        {
            if (slotNames.Contains(name) || active) continue;
            _logger.LogInformation("Dropping physical replication slot {Slot}", name);
            await ExecuteAsync(conn, "SELECT pg_catalog.pg_drop_replication_slot($1)", ct, name).ConfigureAwait(false);
        }
    }

    private async Task<bool> RemoveRecoveryParametersFromAutoConfAsync(CancellationToken ct)
    {
        var autoConf = Path.Combine(DataDir, "postgresql.auto.conf");
        if (!File.Exists(autoConf)) return false;
        var lines = await File.ReadAllLinesAsync(autoConf, ct).ConfigureAwait(false);
        var kept = lines.Where(l =>
        {
            var eq = l.IndexOf('=', StringComparison.Ordinal);
            return eq < 0 || l.TrimStart().StartsWith('#') || !PostgresParameters.RecoveryParameters.Contains(l[..eq].Trim());
        }).ToList();
        if (kept.Count == lines.Length) return false;
        _logger.LogInformation("Removing recovery parameters from {File}", autoConf);
        await _owner.WriteIfChangedAsync(autoConf, string.Join('\n', kept) + "\n", OwnerOnly, ct).ConfigureAwait(false);
        return true;
    }

    private async Task WritePgpassAsync(CancellationToken ct)
    {
        var auth = _config.Postgresql.Authentication;
        var content = PgPassFile.Render(
        [
            (auth.Superuser.Username, auth.Superuser.Password),
            (auth.Replication.Username, auth.Replication.Password),
            (auth.Rewind?.Username ?? auth.Superuser.Username, auth.Rewind?.Password ?? auth.Superuser.Password),
        ]);
        var dir = Path.GetDirectoryName(PgpassPath);
        if (dir is not null && !Directory.Exists(dir)) _owner.CreateDirectory(dir, OwnerOnlyDir);
        await _owner.WriteIfChangedAsync(PgpassPath, content, OwnerOnly, ct).ConfigureAwait(false);
    }
}
