using System.Security.Cryptography;
using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Cluster;

/// <summary>A data directory from another cluster (its system identifier differs from initialize) is never touched.</summary>
public sealed class ForeignDataDirectoryTests : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("itforeign", 1);
        await _cluster.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_data_directory_of_another_cluster_is_refused_and_left_untouched()
    {
        var stranger = _cluster.AddNode(2);
        OsUser.Run("setpriv", $"--reuid={stranger.OsUserName}", $"--regid={stranger.OsUserName}", "--clear-groups", "--",
            "/usr/lib/postgresql/15/bin/initdb", "-D", stranger.DataDir, "-U", "postgres", "--no-sync");
        var before = Fingerprint(stranger.DataDir);

        var agent = stranger.Start();
        Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the agent kept running on a foreign data directory");
        Assert.NotEqual(0, agent.ExitCode);
        Assert.Contains("system ID mismatch", agent.Output);
        Assert.Equal(before, Fingerprint(stranger.DataDir));
        Assert.Empty(stranger.PostgresProcesses());
    }

    /// <summary>Every file's path, size and content hash: any write into the directory changes it.</summary>
    private static string Fingerprint(string dir)
    {
        var lines = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(dir, f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}");
        return string.Join('\n', lines);
    }
}
