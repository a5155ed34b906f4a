using System.Diagnostics;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>Every test waits on a condition with a deadline; the failure names what it waited for.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what, TimeSpan? poll = null)
    {
        var sw = Stopwatch.StartNew();
        Exception? last = null;
        while (sw.Elapsed < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) { last = e; }
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100));
        }
        throw new TimeoutException($"timed out after {deadline.TotalSeconds:F0} s waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, string what, TimeSpan? poll = null) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, what, poll);
}
