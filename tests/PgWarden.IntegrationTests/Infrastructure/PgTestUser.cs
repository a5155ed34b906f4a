using System.Diagnostics;
using System.Globalization;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// Tests run as root, and PostgreSQL refuses root: servers run as the `postgres` OS user, in temp directories
/// handed to that user.
/// </summary>
public static class PgTestUser
{
    public const string Name = "postgres";
    public const string BinDir = "/usr/lib/postgresql/15/bin";

    /// <summary>A fresh directory under /tmp owned by the postgres user (mode 0700).</summary>
    public static string CreateTempRoot(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        Chown(path);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public static void Chown(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("chown", [$"{Name}:", path]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown {Name}: {path} failed with {p.ExitCode.ToString(CultureInfo.InvariantCulture)}");
    }

    public static bool IsRoot => Environment.UserName == "root";
}
