using PgWarden.Config;
using PgWarden.Ha;

namespace PgWarden.Tests.Ha;

public sealed class FenceDeadlineTests
{
    [Theory]
    // ttl, retry_timeout, store lock lifetime (s, 0 = none) -> deadline (s) after the last renewal
    [InlineData(10, 3, 0, 6.5)]       // etcd: ttl - max(2, min(retry_timeout, 5)) - 0.5
    [InlineData(30, 10, 0, 24.5)]
    [InlineData(10, 3, 10, 6.5)]      // ZooKeeper, session timeout = ttl
    [InlineData(10, 3, 6, 2.5)]       // ZooKeeper server clamped the session to 6 s: the session is the lock
    [InlineData(10, 3, 40, 6.5)]      // a longer session never extends the deadline past ttl
    public void Deadline_counts_the_shorter_of_ttl_and_the_stores_lock_lifetime(int ttl, int retryTimeout, int storeSeconds, double expected)
    {
        var d = DynamicConfig.Default with { Ttl = ttl, RetryTimeout = retryTimeout };
        var deadline = HaLoop.FenceDeadline(d, storeSeconds == 0 ? null : TimeSpan.FromSeconds(storeSeconds));
        Assert.Equal(expected, deadline.TotalSeconds, 3);
    }

    [Theory]
    // ttl, loop_wait, retry_timeout -> fast-path renewal (s) after the last renewal; always before the fence
    [InlineData(30, 10, 10, 11.5)]    // Patroni's defaults: loop_wait + 1.5
    [InlineData(10, 2, 3, 3.5)]
    [InlineData(5, 1, 1, 2.0)]        // fence at 2.5: half a second before it
    [InlineData(4, 1, 1, 1.25)]       // the fast profile: fence at 1.5, fast path a quarter second after the cycle was due
    [InlineData(4, 2, 1, 1.25)]       // valid, but the fence (1.5) comes before the next cycle (2): the fence task renews
    public void Fast_path_renewal_comes_before_the_fence(int ttl, int loopWait, int retryTimeout, double expected)
    {
        var d = DynamicConfig.Default with { Ttl = ttl, LoopWait = loopWait, RetryTimeout = retryTimeout };
        Assert.Equal(expected, HaLoop.FastPathAfter(d).TotalSeconds, 3);
        Assert.True(HaLoop.FastPathAfter(d) < HaLoop.FenceDeadline(d));
    }
}
