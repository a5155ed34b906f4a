using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PgWarden.Dcs;
using PgWarden.Dcs.Etcd3;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>All etcd DCS tests share the 127.0.0.21-23 addresses, so they run one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection
{
    public const string Name = "etcd-dcs";
}

/// <summary>One single-member etcd for a test class; each test uses its own scope.</summary>
public sealed class SingleEtcdFixture : IAsyncLifetime
{
    public EtcdCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await EtcdCluster.StartAsync(["127.0.0.21"], Path.GetTempPath(), CancellationToken.None);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

internal static class EtcdTestSupport
{
    public static Etcd3Client Client(IReadOnlyList<string> endpoints, double retryTimeoutSeconds = 3, string? user = null,
        string? password = null, bool discover = true) =>
        new(new Etcd3ClientOptions
        {
            Endpoints = endpoints,
            RetryTimeout = TimeSpan.FromSeconds(retryTimeoutSeconds),
            Username = user,
            Password = password,
            DiscoverMembers = discover,
        }, TimeProvider.System, NullLogger.Instance);

    public static Etcd3Dcs NewDcs(Etcd3Client client, string scope, string name, bool watch = true, int ttl = 2, int retryTimeout = 3)
    {
        var dcs = new Etcd3Dcs(client, "/service/", scope, name, TimeProvider.System, NullLogger.Instance, watch);
        dcs.Configure(ttl, loopWait: 1, retryTimeout);
        return dcs;
    }

    public static string NewScope() => "t" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Polls condition until it holds or the deadline passes (then fails with what).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed > timeout) Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            await Task.Delay(100);
        }
    }

    public static MemberData Member(string name, string state = "running") => new()
    {
        ConnUrl = $"postgres://127.0.0.1:5432/postgres",
        ApiUrl = $"http://127.0.0.1:8008/patroni",
        State = state,
        Role = "replica",
        Version = "3.0.2",
        Tags = new System.Text.Json.Nodes.JsonObject { ["name"] = name },
    };
}
