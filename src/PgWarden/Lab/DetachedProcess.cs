using System.Diagnostics;

namespace PgWarden.Lab;

/// <summary>
/// Starts a long-running lab process that outlives the `pgwarden lab` command: its own session (setsid), stdin
/// from /dev/null, output appended to a log file, optionally as an unprivileged user (setpriv execs in place, so
/// the pid we record is the process itself).
/// </summary>
public static class DetachedProcess
{
    public static int Start(string logPath, string? asUser, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" </dev/null >>\"$PGWARDEN_LAB_LOG\" 2>&1");
        psi.ArgumentList.Add("bash");
        if (asUser is not null)
        {
            var (uid, gid) = OsUsers.Ensure(asUser);
            foreach (var a in new[] { "setpriv", $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--" }) psi.ArgumentList.Add(a);
        }
        foreach (var a in command) psi.ArgumentList.Add(a);
        psi.Environment["PGWARDEN_LAB_LOG"] = logPath;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command[0]}");
        return p.Id;
    }

    public static bool IsAlive(int pid) =>
        pid > 0 && File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].StartsWith('Z');

    public static void Signal(int pid, string signal)
    {
        if (IsAlive(pid)) OsUsers.Run(false, "kill", "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
