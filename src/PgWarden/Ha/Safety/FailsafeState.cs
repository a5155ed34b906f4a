namespace PgWarden.Ha.Safety;

/// <summary>
/// The failsafe bookkeeping shared by the REST API and the HA loop. On a replica: the primary that confirmed itself
/// over POST /failsafe, trusted as the leader for ttl seconds (no leader race meanwhile). On the primary: whether
/// its last cycle was kept alive by failsafe confirmations instead of a DCS renewal (REST failsafe_mode_is_active).
/// </summary>
public sealed class FailsafeState(TimeProvider time)
{
    private sealed record Accepted(string Leader, long Timestamp, int Ttl);

    private Accepted? _accepted;

    /// <summary>Set by the primary's loop while failsafe (not the DCS) keeps it the leader.</summary>
    public bool ActiveAsLeader { get; set; }

    public void Accept(string leader, int ttl) => Volatile.Write(ref _accepted, new Accepted(leader, time.GetTimestamp(), ttl));

    /// <summary>The sender of an accepted POST /failsafe younger than ttl; null otherwise.</summary>
    public string? ActiveLeader()
    {
        var a = Volatile.Read(ref _accepted);
        return a is not null && time.GetElapsedTime(a.Timestamp) < TimeSpan.FromSeconds(a.Ttl) ? a.Leader : null;
    }

    public bool IsActive => ActiveAsLeader || ActiveLeader() is not null;

    public void Clear()
    {
        Volatile.Write(ref _accepted, null);
        ActiveAsLeader = false;
    }
}
