using PgWarden.Ha;
using PgWarden.Postgres;

namespace PgWarden.Tests.Ha;

public sealed class StreamedTimelineTests
{
    private static readonly DateTimeOffset Start1 = new(2026, 11, 22, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Start2 = Start1.AddMinutes(1);

    private static PostgresProbe Standby(int timeline, bool streaming, DateTimeOffset start) => new()
    {
        InRecovery = true, ServerVersion = 150000, Timeline = timeline, PostmasterStartTime = start,
        ReplicationState = streaming ? "streaming" : "in archive recovery",
    };

    [Fact]
    public void A_standby_that_streamed_on_timeline_4_still_reads_4_when_its_leader_dies_and_pg_control_says_2()
    {
        var t = new StreamedTimeline();
        Assert.Equal(4, t.Apply(Standby(4, true, Start1)).Timeline);
        Assert.Equal(4, t.Apply(Standby(2, false, Start1)).Timeline);
    }

    [Fact]
    public void A_restarted_postmaster_forgets_what_the_previous_one_streamed()
    {
        var t = new StreamedTimeline();
        t.Apply(Standby(4, true, Start1));
        Assert.Equal(2, t.Apply(Standby(2, false, Start2)).Timeline);
    }

    [Fact]
    public void A_standby_that_never_streamed_keeps_pg_controls_timeline()
    {
        var t = new StreamedTimeline();
        Assert.Equal(2, t.Apply(Standby(2, false, Start1)).Timeline);
    }

    [Fact]
    public void A_promotion_resets_and_a_primary_is_never_changed()
    {
        var t = new StreamedTimeline();
        t.Apply(Standby(4, true, Start1));
        var primary = new PostgresProbe { InRecovery = false, ServerVersion = 150000, Timeline = 5, PostmasterStartTime = Start1 };
        Assert.Equal(5, t.Apply(primary).Timeline);
        Assert.Equal(3, t.Apply(Standby(3, false, Start1)).Timeline);
    }
}
