namespace PgWarden.Dcs.ZooKeeper;

public sealed record ZooKeeperClientOptions
{
    /// <summary>"host:port" of each server of the ensemble (port defaults to 2181).</summary>
    public required IReadOnlyList<string> Hosts { get; init; }
    /// <summary>The session timeout asked for (Patroni: ttl); the server clamps it to [2, 20] × tickTime.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Per-server TCP connect and handshake budget (Patroni: max(1, loop_wait/2) s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
