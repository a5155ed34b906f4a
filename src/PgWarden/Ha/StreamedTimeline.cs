using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>
/// The timeline a standby really is on. While its WAL receiver streams, the probe reports the received timeline;
/// once it stops (the leader died) the probe falls back to pg_control's, which lags until the next restartpoint — a
/// standby that followed the leader to timeline 4 then reads as timeline 2. The HA rule for a standby stuck on an
/// old timeline then stopped it for a pg_rewind from the dead leader, 6 s after the kill: at ttl 10 the standby was
/// restarting when the lock expired, and the failover waited a whole loop_wait (bench: lock expiry to first write
/// 2.3 s instead of 0.2 s). A running postmaster never goes back to an older timeline, so the highest timeline it
/// streamed on counts until it restarts or is promoted.
/// </summary>
internal sealed class StreamedTimeline
{
    private int _timeline;
    private DateTimeOffset? _postmasterStart;

    public PostgresProbe Apply(PostgresProbe probe)
    {
        if (!probe.InRecovery)
        {
            _timeline = 0;
            _postmasterStart = null;
            return probe;
        }
        if (probe.PostmasterStartTime != _postmasterStart)
        {
            _timeline = 0;
            _postmasterStart = probe.PostmasterStartTime;
        }
        if (probe.ReplicationState == "streaming")
        {
            _timeline = Math.Max(_timeline, probe.Timeline);
            return probe;
        }
        return probe.Timeline < _timeline ? probe with { Timeline = _timeline } : probe;
    }
}
