using PgWarden.Ha.Safety;

namespace PgWarden.Tests.Safety;

public sealed class FailsafeStateTests
{
    [Fact]
    public void An_accepted_leader_is_trusted_for_ttl_seconds()
    {
        var time = new ManualTime();
        var state = new FailsafeState(time);
        Assert.Null(state.ActiveLeader());
        state.Accept("node1", 10);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("node1", state.ActiveLeader());
        Assert.True(state.IsActive);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(state.ActiveLeader());
        Assert.False(state.IsActive);
    }
}

/// <summary>A monotonic clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => _ticks;
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
