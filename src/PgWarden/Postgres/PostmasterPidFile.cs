using System.Globalization;

namespace PgWarden.Postgres;

/// <summary>data_dir/postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status.</summary>
public sealed record PostmasterPidFile(int Pid, int? Port, string? Status)
{
    public static PostmasterPidFile? Parse(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var lines = content.Split('\n');
        if (lines.Length == 0 || !int.TryParse(lines[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            return null;
        int? port = lines.Length > 3 && int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
        var status = lines.Length > 7 && lines[7].Trim().Length > 0 ? lines[7].Trim() : null;
        return new PostmasterPidFile(pid, port, status);
    }

    /// <summary>Null when the file is missing, unreadable or (while the postmaster writes it) incomplete.</summary>
    public static PostmasterPidFile? Read(string dataDir)
    {
        try
        {
            using var stream = new FileStream(Path.Combine(dataDir, "postmaster.pid"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return Parse(reader.ReadToEnd());
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
