namespace PgWarden.Dcs.Etcd3;

public sealed record Etcd3ClientOptions
{
    /// <summary>"host:port" or "http://host:port"; port defaults to 2379.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>Total budget of one call across every endpoint tried (the dynamic retry_timeout).</summary>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Extend the endpoint list with the clientURLs of /cluster/member/list.</summary>
    public bool DiscoverMembers { get; init; } = true;
    public string UserAgent { get; init; } = "PgWarden";
}
