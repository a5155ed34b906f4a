using PgWarden.Postgres;

namespace PgWarden.Tests.Postgres;

public sealed class PendingRestartParametersTests
{
    [Fact]
    public void A_promotion_dropping_recovery_target_timeline_is_not_a_pending_restart()
    {
        Assert.Empty(ProbeQuery.PendingRestartParameters(["recovery_target_timeline"]));
        Assert.Empty(ProbeQuery.PendingRestartParameters(["primary_slot_name", "hot_standby"]));
    }

    [Fact]
    public void Real_postmaster_parameters_stay_pending()
    {
        Assert.Equal(["shared_buffers", "max_connections"],
            ProbeQuery.PendingRestartParameters(["shared_buffers", "recovery_target_timeline", "max_connections"]));
    }
}
