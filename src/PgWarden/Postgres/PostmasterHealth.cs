namespace PgWarden.Postgres;

/// <summary>
/// The light local probe's verdict, refreshed several times a second independently of the HA loop, so a dead
/// or hung postmaster turns health checks to 503 within a second without SQL per HTTP request.
/// </summary>
public sealed class PostmasterHealth
{
    private int _healthy;
    private long _checkedAtTicks;

    public bool IsHealthy => Volatile.Read(ref _healthy) == 1;
    public DateTimeOffset CheckedAt => new(Volatile.Read(ref _checkedAtTicks), TimeSpan.Zero);

    public void Set(bool healthy, DateTimeOffset at)
    {
        Volatile.Write(ref _healthy, healthy ? 1 : 0);
        Volatile.Write(ref _checkedAtTicks, at.UtcTicks);
    }
}
