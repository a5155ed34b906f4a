namespace PgWarden.IntegrationTests.Faults;

/// <summary>What happened around one fault: when it ran (checker clock), how long the cluster took to converge, what it cost.</summary>
public sealed record FaultOutcome(FaultStep Step, string What, TimeSpan Start, TimeSpan End)
{
    /// <summary>From the end of the fault (undone, or injected when nothing is undone) to one leader with every replica streaming; null: did not converge.</summary>
    public TimeSpan? Converge { get; init; }
    /// <summary>Acknowledged inserts first found missing on the leader after this fault.</summary>
    public int Lost { get; init; }
    /// <summary>
    /// Commits PostgreSQL returned with "canceling wait for synchronous replication" during this fault: committed on
    /// the primary only, so not acknowledged (and not counted as lost when a failover discards them).
    /// </summary>
    public int Unconfirmed { get; init; }
    public int SplitBrainWindows { get; set; }
    public string? Error { get; init; }
}
