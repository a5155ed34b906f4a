namespace PgWarden.Postgres;

/// <summary>
/// The light local probe's verdict. Whoever reads it (a health check, the HA loop) gets a verdict at most
/// <see cref="MaxAge"/> old: an older one is refreshed on the spot by the attached process check (two small file
/// reads), so a dead or stopped postmaster turns health checks to 503 within a second without SQL per request and
/// without a timer waking an idle agent several times a second.
/// </summary>
public sealed class PostmasterHealth
{
    private int _healthy;
    private long _checkedAtTicks;
    private int _refreshing;
    private Action? _refresh;
    private TimeProvider _time = TimeProvider.System;

    /// <summary>How old a verdict may be when read (the process check's period in the monitor's fallback).</summary>
    public TimeSpan MaxAge { get; private set; } = TimeSpan.FromMilliseconds(500);

    public bool IsHealthy
    {
        get
        {
            if (_refresh is { } refresh && _time.GetUtcNow() - CheckedAt > MaxAge
                && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
            {
                // One reader refreshes; readers arriving meanwhile take the verdict as it stands (at most a few µs older).
                try { refresh(); }
                finally { Volatile.Write(ref _refreshing, 0); }
            }
            return Volatile.Read(ref _healthy) == 1;
        }
    }

    public DateTimeOffset CheckedAt => new(Volatile.Read(ref _checkedAtTicks), TimeSpan.Zero);

    public void Set(bool healthy, DateTimeOffset at)
    {
        Volatile.Write(ref _healthy, healthy ? 1 : 0);
        Volatile.Write(ref _checkedAtTicks, at.UtcTicks);
    }

    /// <summary>Makes reads refresh a verdict older than <paramref name="maxAge"/> with <paramref name="refresh"/>
    /// (which calls <see cref="Set"/>).</summary>
    public void RefreshOnRead(Action refresh, TimeProvider time, TimeSpan maxAge)
    {
        _time = time;
        MaxAge = maxAge;
        _refresh = refresh;
    }
}
