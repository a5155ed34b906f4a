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
}
