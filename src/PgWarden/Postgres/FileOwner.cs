using System.Globalization;

namespace PgWarden.Postgres;

/// <summary>
/// Writes the files PostgreSQL reads. When a root test process runs PostgreSQL as another OS user, every file
/// and directory written is handed to that user; otherwise files stay with the running (agent) user.
/// </summary>
internal sealed class FileOwner
{
    private readonly (int Uid, int Gid)? _owner;

    public FileOwner(string? osUser)
    {
        if (osUser is null) return;
        _owner = LookUp(osUser) ?? throw new ArgumentException($"OS user '{osUser}' is not in /etc/passwd; expected an existing user to run PostgreSQL as.", nameof(osUser));
    }

    /// <summary>Writes content atomically (temp file + rename) when it differs; true if the file changed.</summary>
    public async Task<bool> WriteIfChangedAsync(string path, string content, UnixFileMode mode, CancellationToken ct)
    {
        if (File.Exists(path) && await File.ReadAllTextAsync(path, ct).ConfigureAwait(false) == content)
        {
            EnsureMode(path, mode);
            return false;
        }
        var temp = path + ".pgwarden.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode; // never briefly world-readable
        await using (var stream = new FileStream(temp, options))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(content), ct).ConfigureAwait(false);
        }
        SetMode(temp, mode);
        Own(temp);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    public void CreateDirectory(string path, UnixFileMode mode)
    {
        if (!Directory.Exists(path))
        {
            var parent = Path.GetDirectoryName(Path.GetFullPath(path));
            if (parent is not null && !Directory.Exists(parent)) CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
            else Directory.CreateDirectory(path, mode);
            Own(path);
        }
        SetMode(path, mode);
    }

    /// <summary>chown to the PostgreSQL OS user (no-op when PostgreSQL runs as the current user).</summary>
    public void Own(string path)
    {
        if (_owner is { } o) PosixSignals.Chown(path, o.Uid, o.Gid);
    }

    private static void EnsureMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != mode) File.SetUnixFileMode(path, mode);
    }

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
    }

    internal static (int Uid, int Gid)? LookUp(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && f[0] == user)
                return (int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture));
        }
        return null;
    }
}
