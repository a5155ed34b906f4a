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
    /// <summary>PEM CA bundle that signs the etcd servers' certificates (etcd3.cacert); null = the system store.</summary>
    public string? CaCertFile { get; init; }
    /// <summary>PEM client certificate and key (etcd3.cert / etcd3.key) for etcd's --client-cert-auth.</summary>
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
}
