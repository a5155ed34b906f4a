namespace PgWarden.IntegrationTests.Postgres;

internal static class Wait
{
    /// <summary>Polls the condition until it holds or the deadline passes; returns the last value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, TimeSpan? every = null)
    {
        var end = DateTime.UtcNow + deadline;
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow >= end) return value;
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
    }
}
