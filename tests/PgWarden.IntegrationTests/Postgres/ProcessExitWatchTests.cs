using System.Diagnostics;
using PgWarden.Postgres;

namespace PgWarden.IntegrationTests.Postgres;

/// <summary>The pidfd exit watch against real processes (`sleep`, started and killed here).</summary>
public sealed class ProcessExitWatchTests
{
    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    /// <summary>Our descriptors that are pidfds of <paramref name="pid"/> (fdinfo names the pid). Other tests run in
    /// parallel in this process, so a plain descriptor count would not do.</summary>
    private static int PidfdsOf(int pid) => Directory.GetFiles("/proc/self/fdinfo").Count(f =>
    {
        try { return File.ReadLines(f).Any(l => l == $"Pid:\t{pid}"); }
        catch (IOException) { return false; } // closed meanwhile
    });

    [Fact]
    public async Task Exit_of_a_watched_process_completes_the_watch()
    {
        using var sleeper = Sleeper();
        using var watch = ProcessExitWatch.TryStart(sleeper.Id);
        Assert.NotNull(watch);
        Assert.False(watch.Exited.IsCompleted);

        sleeper.Kill();
        await watch.Exited.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Dispose_stops_the_watch_without_completing_it_and_releases_the_pidfd()
    {
        using var sleeper = Sleeper();
        var watch = ProcessExitWatch.TryStart(sleeper.Id);
        Assert.NotNull(watch);
        Assert.Equal(1, PidfdsOf(sleeper.Id));

        watch.Dispose();
        // The watch thread closes the pidfd and the eventfd together once Dispose has woken it.
        Assert.Equal(0, await Wait.UntilAsync(() => Task.FromResult(PidfdsOf(sleeper.Id)), n => n == 0, TimeSpan.FromSeconds(5)));
        sleeper.Kill();
        await sleeper.WaitForExitAsync();
        await Task.Delay(200); // an exit after Dispose must not be reported: give a stray wake-up time to show
        Assert.False(watch.Exited.IsCompleted);
    }

    [Fact]
    public async Task A_watch_on_a_process_that_already_exited_completes_at_once_or_is_refused()
    {
        var sleeper = Sleeper();
        var pid = sleeper.Id;
        sleeper.Kill();
        await sleeper.WaitForExitAsync();
        sleeper.Dispose(); // reaped: the pid no longer names a process
        using var watch = ProcessExitWatch.TryStart(pid);
        if (watch is not null) await watch.Exited.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
