using System.Diagnostics;

namespace PgWarden.Lab;

/// <summary>
/// Local clusters (the lab, the tests) run each agent as its own unprivileged OS user, so a network fault can
/// target one node with iptables' owner match (on loopback every source address is 127.0.0.1). Also the small
/// "run a host command and get its output" helper those tools share.
/// </summary>
public static class OsUsers
{
    private static readonly Lock Gate = new();

    public static (int Uid, int Gid) Ensure(string name)
    {
        lock (Gate)
        {
            if (TryId(name) is { } ids) return ids;
            Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name);
            return TryId(name) ?? throw new InvalidOperationException($"useradd {name} did not create the user");
        }
    }

    public static void Chown(string path, string user, bool recursive = false)
    {
        if (recursive) Run("chown", "-R", $"{user}:{user}", path);
        else Run("chown", $"{user}:{user}", path);
    }

    private static (int, int)? TryId(string name)
    {
        var (code, uid) = Run(false, "id", "-u", name);
        if (code != 0) return null;
        var (_, gid) = Run(false, "id", "-g", name);
        return (int.Parse(uid.Trim()), int.Parse(gid.Trim()));
    }

    public static string Run(params string[] args)
    {
        var (code, output) = Run(true, args);
        return code == 0 ? output : throw new InvalidOperationException($"{string.Join(' ', args)} exited {code}: {output}");
    }

    public static (int Code, string Output) Run(bool mergeStderr, params string[] args)
    {
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        lock (stderr) return (p.ExitCode, stdout + (mergeStderr ? stderr.ToString() : ""));
    }
}
