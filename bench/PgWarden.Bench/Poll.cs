namespace PgWarden.Bench;

/// <summary>Waits on a condition with a deadline (never a bare sleep), naming what it waited for when it gives up.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what, CancellationToken ct, int intervalMs = 100)
    {
        var end = Clock.Now + deadline.TotalSeconds;
        while (true)
        {
            if (await condition()) return;
            if (Clock.Now > end) throw new TimeoutException($"waited {deadline.TotalSeconds:F0} s for {what}");
            await Task.Delay(intervalMs, ct);
        }
    }
}
