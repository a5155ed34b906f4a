using System.Diagnostics;

namespace PgWarden.Bench;

/// <summary>One monotonic clock for every timestamp of a run (writes, lock changes, commands), in seconds.</summary>
public static class Clock
{
    private static readonly long Origin = Stopwatch.GetTimestamp();

    public static double Now => Stopwatch.GetElapsedTime(Origin).TotalSeconds;
}
