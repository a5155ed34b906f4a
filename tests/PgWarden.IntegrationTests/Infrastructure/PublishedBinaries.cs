namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// The pgwarden executable the agents run: $PGWARDEN_TEST_PUBLISHED when set, else the build output next to this
/// test assembly, copied once per test run to a world-readable place (the checkout may live under a directory other users cannot enter).
/// </summary>
public static class PublishedBinaries
{
    private static readonly Lazy<string> Dir = new(Copy);

    public static string Directory => Dir.Value;

    private static string Copy()
    {
        // scripts/test.sh publishes pgwarden the way it ships (ReadyToRun) and names the directory here, so the agents
        // under test are the shipped artifact; without it, the build output next to this assembly.
        var source = Environment.GetEnvironmentVariable("PGWARDEN_TEST_PUBLISHED") is { Length: > 0 } published
            ? published
            : AppContext.BaseDirectory;
        var target = Path.Combine("/var/tmp/pgwarden-it", "bin-" + Environment.ProcessId);
        System.IO.Directory.CreateDirectory(target);
        foreach (var file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(target, Path.GetRelativePath(source, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest, overwrite: true);
        }
        // Only our copy and the parent: a recursive chmod of the parent would open up the data directories of every
        // cluster running there (other test processes' too), and PostgreSQL then refuses to start on them.
        OsUser.Run("chmod", "a+rX", "/var/tmp/pgwarden-it");
        OsUser.Run("chmod", "-R", "a+rX", target);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(target, recursive: true); } catch (IOException) { }
        };
        return target;
    }
}
