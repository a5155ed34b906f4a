using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Postgres;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PrimaryFixture>
{
    /// <summary>Every test class that uses 127.0.0.31/.32 joins this collection, so they never overlap.</summary>
    public const string Name = "postgres";
}

/// <summary>A bootstrapped primary on 127.0.0.31, shared by the collection (tests never demote it).</summary>
public sealed class PrimaryFixture : IAsyncLifetime
{
    public string Root { get; } = PgTestUser.CreateTempRoot("pgwarden-pg-");
    public PgTestNode Primary { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Primary = new PgTestNode(Root, "node1", "127.0.0.31");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Primary.Instance.InitDbAsync(cts.Token);
        await Primary.Instance.WriteConfigurationAsync(null, PgTestNode.Dynamic, cts.Token);
        if (!await Primary.Instance.StartAsync(TimeSpan.FromSeconds(30), cts.Token))
            throw new InvalidOperationException("The primary did not start: " + ReadLog(Primary));
        await Primary.Instance.PostBootstrapAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        await Primary.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    public static string ReadLog(PgTestNode node) =>
        File.Exists(node.Instance.LogFile) ? File.ReadAllText(node.Instance.LogFile) : "(no log)";
}
