using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Postgres;

/// <summary>Destructive process tests on a standalone copy of the primary on 127.0.0.32.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostmasterControlTests(PrimaryFixture fixture) : IAsyncLifetime
{
    private PgTestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new PgTestNode(fixture.Root, "standalone-" + Guid.NewGuid().ToString("N")[..6], "127.0.0.32");
        await _node.Instance.CloneAsync(fixture.Primary.Host, 5432, null, CancellationToken.None);
        await _node.Instance.WriteConfigurationAsync(null, PgTestNode.Dynamic, CancellationToken.None);
        Assert.True(await _node.Instance.StartAsync(TimeSpan.FromSeconds(30), CancellationToken.None), PrimaryFixture.ReadLog(_node));
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Stop_of_a_sigstopped_postmaster_still_ends_within_the_timeout()
    {
        var pid = _node.Instance.PostmasterPid()!.Value;
        Assert.True(PosixSignals.Send(pid, PosixSignals.SigStop));
        var started = DateTime.UtcNow;

        await _node.Instance.StopAsync(StopMode.Fast, TimeSpan.FromSeconds(4), CancellationToken.None);

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.False(_node.Instance.IsPostmasterAlive());
    }

    [Fact]
    public async Task Monitor_flags_a_stopped_then_a_killed_postmaster_within_a_second()
    {
        var health = new PostmasterHealth();
        var monitor = new PostmasterMonitor(_node.Instance, health, TimeProvider.System, NullLogger.Instance);
        var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.PostmasterDied += (_, _) => died.TrySetResult();
        using var cts = new CancellationTokenSource();
        var run = monitor.RunAsync(cts.Token);
        try
        {
            Assert.True(await WaitHealth(health, true, TimeSpan.FromSeconds(3)));
            var pid = _node.Instance.PostmasterPid()!.Value;

            PosixSignals.Send(pid, PosixSignals.SigStop);
            Assert.True(await WaitHealth(health, false, TimeSpan.FromSeconds(1)), "SIGSTOP not noticed within 1 s");
            PosixSignals.Send(pid, PosixSignals.SigCont);
            Assert.True(await WaitHealth(health, true, TimeSpan.FromSeconds(3)), "SIGCONT not noticed");

            PosixSignals.Send(pid, PosixSignals.SigKill);
            Assert.True(await WaitHealth(health, false, TimeSpan.FromSeconds(1)), "kill -9 not noticed within 1 s");
            await died.Task.WaitAsync(TimeSpan.FromSeconds(1));
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task Monitor_learns_a_kill_9_from_the_pidfd_without_anyone_reading_the_verdict()
    {
        var health = new PostmasterHealth();
        var monitor = new PostmasterMonitor(_node.Instance, health, TimeProvider.System, NullLogger.Instance);
        var died = new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.PostmasterDied += (_, _) => died.TrySetResult(DateTime.UtcNow);
        using var cts = new CancellationTokenSource();
        var run = monitor.RunAsync(cts.Token);
        try
        {
            Assert.True(await WaitHealth(health, true, TimeSpan.FromSeconds(3)));
            var checkedAt = health.CheckedAt;
            // Nobody reads the verdict from here on: only the monitor's own wake-ups can notice the death.
            await Task.Delay(TimeSpan.FromMilliseconds(1200));
            var pid = _node.Instance.PostmasterPid()!.Value;
            var killedAt = DateTime.UtcNow;
            PosixSignals.Send(pid, PosixSignals.SigKill);

            var seenAt = await died.Task.WaitAsync(TimeSpan.FromSeconds(2));
            Console.WriteLine($"monitor saw the kill after {(seenAt - killedAt).TotalMilliseconds:0} ms " +
                $"(idle: verdict last refreshed {(killedAt - checkedAt.UtcDateTime).TotalMilliseconds:0} ms before the kill)");
            // The 500 ms timer is gone: the monitor slept through the 1.2 s before the kill (no refresh), yet the
            // death was seen well within the fresh-connection period it would otherwise have slept until.
            Assert.True(killedAt - checkedAt.UtcDateTime >= TimeSpan.FromSeconds(1), "the monitor refreshed while idle");
            Assert.InRange(seenAt - killedAt, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task Monitor_flags_a_server_that_refuses_connections()
    {
        var health = new PostmasterHealth();
        var refuse = false;
        var monitor = new PostmasterMonitor(_node.Instance.DataDir, (_, _) => Task.FromResult(!refuse), health, TimeProvider.System, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = monitor.RunAsync(cts.Token);
        try
        {
            Assert.True(await WaitHealth(health, true, TimeSpan.FromSeconds(3)));
            refuse = true;
            Assert.True(await WaitHealth(health, false, PostmasterMonitor.ConnectionCheckInterval + PostmasterMonitor.ConnectionTimeout + TimeSpan.FromSeconds(1)),
                "a failing connection check must make the postmaster unhealthy within one check period");
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    private static async Task<bool> WaitHealth(PostmasterHealth health, bool expected, TimeSpan deadline)
    {
        var end = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < end)
        {
            if (health.IsHealthy == expected) return true;
            await Task.Delay(20);
        }
        return health.IsHealthy == expected;
    }
}
