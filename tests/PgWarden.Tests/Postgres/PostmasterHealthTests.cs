using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

/// <summary>A verdict read older than MaxAge is refreshed first; a fresh one is served as it stands.</summary>
public class PostmasterHealthTests
{
    private sealed class WallClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Theory]
    [InlineData(0, false, true)]     // just checked: no refresh, the stored verdict (healthy)
    [InlineData(500, false, true)]   // exactly MaxAge old: still served
    [InlineData(501, true, false)]   // older: the process check runs first and its verdict (stopped) is returned
    [InlineData(60_000, true, false)]
    public void Reads_refresh_only_a_stale_verdict(int ageMs, bool refreshed, bool expected)
    {
        var clock = new WallClock();
        var health = new PostmasterHealth();
        var checks = 0;
        health.RefreshOnRead(() => { checks++; health.Set(false, clock.Now); }, clock, TimeSpan.FromMilliseconds(500));
        health.Set(true, clock.Now);
        clock.Now += TimeSpan.FromMilliseconds(ageMs);

        Assert.Equal(expected, health.IsHealthy);
        Assert.Equal(refreshed ? 1 : 0, checks);
        Assert.Equal(expected, health.IsHealthy); // a second read at the same moment: the verdict is fresh now
        Assert.Equal(refreshed ? 1 : 0, checks);
    }

    [Fact]
    public void Without_a_refresher_the_stored_verdict_is_served_whatever_its_age()
    {
        var health = new PostmasterHealth();
        health.Set(true, DateTimeOffset.UnixEpoch);
        Assert.True(health.IsHealthy);
    }
}
