using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Config;
using PgWarden.Ha.Safety;

namespace PgWarden.Tests.Safety;

/// <summary>The watchdog against a stand-in device (a regular file): arming, keepalives, magic close, required mode.</summary>
public sealed class WatchdogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pgwarden-wd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DynamicConfig Timings = new() { Ttl = 30, LoopWait = 10 };

    [Fact]
    public void Keepalives_then_magic_close()
    {
        var device = Path.Combine(_dir, "watchdog");
        File.WriteAllBytes(device, []);
        using var wd = new Watchdog(new WatchdogConfig { Mode = "automatic", Device = device, SafetyMargin = 5 }, NullLogger.Instance);
        Assert.True(wd.Activate(Timings));
        Assert.True(wd.IsActive);
        wd.Keepalive();
        wd.Keepalive();
        wd.Disarm("test");
        Assert.False(wd.IsActive);
        Assert.Equal("111V", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(device)));
        wd.Keepalive(); // disarmed: nothing written
        Assert.Equal(4, File.ReadAllBytes(device).Length);
    }

    [Fact]
    public void Required_and_missing_refuses_automatic_and_missing_carries_on()
    {
        var missing = Path.Combine(_dir, "nope");
        using var required = new Watchdog(new WatchdogConfig { Mode = "required", Device = missing }, NullLogger.Instance);
        Assert.Contains("does not exist", required.RequiredButUnusable(Timings));
        Assert.False(required.Activate(Timings));
        using var automatic = new Watchdog(new WatchdogConfig { Mode = "automatic", Device = missing }, NullLogger.Instance);
        Assert.Null(automatic.RequiredButUnusable(Timings));
        Assert.True(automatic.Activate(Timings));
        Assert.False(automatic.IsActive);
    }

    [Theory]
    [InlineData(30, 10, 5, 25)]
    [InlineData(30, 10, -1, 15)]
    [InlineData(10, 8, 5, null)]
    public void Timeout_is_ttl_minus_safety_margin_and_needs_loop_wait_of_slack(int ttl, int loopWait, int margin, int? expected) =>
        Assert.Equal(expected, Watchdog.TimeoutFor(new WatchdogConfig { SafetyMargin = margin }, new DynamicConfig { Ttl = ttl, LoopWait = loopWait }));

    [Fact]
    public void Off_never_opens_anything()
    {
        using var off = new Watchdog(new WatchdogConfig { Mode = "off", Device = "/nonexistent" }, NullLogger.Instance);
        Assert.True(off.Activate(Timings));
        Assert.False(off.IsActive);
        Assert.Null(off.RequiredButUnusable(Timings));
    }
}
