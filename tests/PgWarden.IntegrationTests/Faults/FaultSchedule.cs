namespace PgWarden.IntegrationTests.Faults;

/// <summary>
/// One scheduled fault: what, which replica or etcd member (an index taken modulo the candidates at run time, since
/// who is primary depends on earlier faults), how long it is held before being undone, and how long the cluster
/// runs undisturbed after it has converged.
/// </summary>
public sealed record FaultStep(int Number, FaultKind Kind, int TargetIndex, TimeSpan Hold, TimeSpan Calm);

/// <summary>
/// The fault sequence and timings derived from one seed: the same seed (and count, ttl and kinds) always gives the
/// same steps. System.Random with a seed is deterministic across runs and machines.
/// </summary>
public static class FaultSchedule
{
    public static readonly FaultKind[] AllKinds = Enum.GetValues<FaultKind>();

    /// <summary>
    /// count steps; kinds are dealt from shuffled decks of every kind, so any window of |kinds| consecutive steps holds
    /// every kind about once (a short run still covers many kinds; a long one covers each about count/|kinds| times).
    /// </summary>
    public static IReadOnlyList<FaultStep> Generate(int seed, int count, int ttl, IReadOnlyList<FaultKind>? kinds = null)
    {
        var rng = new Random(seed);
        var pool = kinds ?? AllKinds;
        var steps = new List<FaultStep>(count);
        var deck = new List<FaultKind>();
        for (var i = 1; i <= count; i++)
        {
            if (deck.Count == 0)
            {
                deck.AddRange(pool);
                for (var j = deck.Count - 1; j > 0; j--) { var k = rng.Next(j + 1); (deck[j], deck[k]) = (deck[k], deck[j]); }
            }
            var kind = deck[0];
            deck.RemoveAt(0);
            var target = rng.Next(1000);
            var hold = TimeSpan.FromMilliseconds(HoldMs(kind, ttl, rng));
            var calm = TimeSpan.FromMilliseconds(rng.Next(500, 3000));
            steps.Add(new FaultStep(i, kind, target, hold, calm));
        }
        return steps;
    }

    private static int HoldMs(FaultKind kind, int ttl, Random rng) => kind switch
    {
        // A supervisor restarts a killed agent within seconds; the postmaster keeps running meanwhile.
        FaultKind.KillPrimaryAgent => rng.Next(500, 3000),
        // Node down: sometimes back before the lock expires, mostly after a failover.
        FaultKind.KillPrimaryBoth => rng.Next(1000, (ttl + 5) * 1000),
        FaultKind.StopPrimaryAgent or FaultKind.StopPrimaryPostmaster => rng.Next((ttl + 1) * 1000, (ttl + 5) * 1000),
        FaultKind.PartitionPrimaryFromEtcd or FaultKind.PartitionPrimaryFromReplicas or FaultKind.PartitionPrimaryFromAll =>
            rng.Next((ttl + 2) * 1000, (ttl + 8) * 1000),
        FaultKind.LoseOneEtcdMember => rng.Next(3000, 10000),
        FaultKind.LoseEtcdQuorum => rng.Next(3000, (ttl + 5) * 1000),
        FaultKind.RestartReplica => rng.Next(0, 3000),
        _ => 0,
    };

    /// <summary>The seed from PGWARDEN_FAULT_SEED, else a fresh one (printed by the caller so the run can be repeated).</summary>
    public static int SeedFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("PGWARDEN_FAULT_SEED");
        if (string.IsNullOrWhiteSpace(text)) return Random.Shared.Next(1, 1_000_000);
        return int.TryParse(text, out var seed)
            ? seed
            : throw new ArgumentException($"PGWARDEN_FAULT_SEED '{text}' is not an integer");
    }
}
