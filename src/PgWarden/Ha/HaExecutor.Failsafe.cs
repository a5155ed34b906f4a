using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Ha.Safety;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>HaExecutor: failsafe mode: the topology the leader publishes and the confirmations it asks for.</summary>
internal sealed partial class HaExecutor
{
    /// <summary>The leader keeps /failsafe = every member's api_url (itself included) while failsafe_mode is on.</summary>
    private async Task WriteFailsafeTopologyAsync(ClusterView view, CancellationToken ct)
    {
        if (!state.Dynamic.FailsafeMode) return;
        var members = view.Members.Where(m => !string.IsNullOrEmpty(m.Data.ApiUrl))
            .ToDictionary(m => m.Name, m => m.Data.ApiUrl!, StringComparer.Ordinal);
        if (!members.ContainsKey(config.Name) && view.FindMember(config.Name)?.Data.ApiUrl is null)
            members[config.Name] = $"http://{config.RestApi.ConnectAddress}/patroni";
        // The members to ask during an outage must be the ones the key names now, not the ones read at the start of
        // this cycle: a member listed in the key but never asked could race for the lock while we hold on.
        try
        {
            await dcs.WriteFailsafeAsync(members, ct);
            state.FailsafeTopology = members;
        }
        catch (DcsException e)
        {
            // The write may have landed or not: ask both the old and the new members.
            if (state.FailsafeTopology is { } old)
                foreach (var (name, url) in old) members.TryAdd(name, url);
            state.FailsafeTopology = members;
            SafetyLog.FailsafeWriteFailed(log, e.Message);
        }
    }

    /// <summary>
    /// The primary lost the DCS: POST /failsafe to every other member of the last known /failsafe topology. All
    /// accepted: the confirmation counts as a renewal (fence deadline, watchdog keepalive) for this cycle. null when
    /// failsafe_mode is off or we are not in the topology (then the caller demotes).
    /// </summary>
    public async Task<FailsafeOutcome?> ConfirmFailsafeAsync(string errorKind, CancellationToken ct)
    {
        if (!state.Dynamic.FailsafeMode || state.Role != "master") return null;
        var topology = state.FailsafeTopology;
        if (topology is null || !topology.ContainsKey(config.Name))
        {
            var missing = new FailsafeOutcome(false, topology is null ? "the /failsafe key was never read" : $"{config.Name} is not in /failsafe", 0);
            SafetyLog.FailsafeRefused(log, errorKind, missing.Detail);
            return missing;
        }
        var started = time.GetTimestamp();
        var self = state.SelfMember;
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["name"] = config.Name,
            ["conn_url"] = self?.ConnUrl,
            ["api_url"] = self?.ApiUrl ?? topology[config.Name],
            ["slots"] = new System.Text.Json.Nodes.JsonObject(),
        }.ToJsonString();
        var outcome = await safety.FailsafeClient.ConfirmAsync(topology, config.Name, body, ct);
        if (outcome.AllAccepted && state.Role == "master" && state.RenewedAtTimestamp is not null)
        {
            state.RenewedAtTimestamp = started;
            safety.Failsafe.ActiveAsLeader = true;
            safety.Watchdog.Keepalive();
            SafetyLog.FailsafeHeld(log, errorKind, outcome.Members, time.GetElapsedTime(started).TotalMilliseconds);
        }
        else if (!outcome.AllAccepted)
        {
            safety.Failsafe.ActiveAsLeader = false;
            SafetyLog.FailsafeRefused(log, errorKind, outcome.Detail);
        }
        return outcome;
    }
}
