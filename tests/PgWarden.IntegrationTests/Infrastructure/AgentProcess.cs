using System.Diagnostics;
using System.Text;

namespace PgWarden.IntegrationTests.Infrastructure;

/// <summary>
/// One `pgwarden agent FILE` process running as its node's OS user (setpriv execs in place, so the process we
/// hold is the agent itself and signals reach it directly). Its output goes to a log file the tests can read.
/// </summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly StringBuilder _tail = new();

    public string Name { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    private AgentProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(File.Open(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _log.WriteLine(line);
            _tail.AppendLine(line);
        }
    }

    public string Output { get { lock (_tail) return _tail.ToString(); } }

    public static AgentProcess Start(string name, string osUser, string binDir, string homeDir, params string[] args)
    {
        var (uid, gid) = OsUser.Ensure(osUser);
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--", Path.Combine(binDir, "pgwarden") })
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = homeDir;
        psi.Environment["DOTNET_ROOT"] = "/usr/share/dotnet";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("PATRONI_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start setpriv");
        process.StandardInput.Close();
        return new AgentProcess(name, process, Path.Combine(homeDir, "agent.log"));
    }

    public void Signal(string signal) => OsUser.Run(false, "kill", "-" + signal, Pid.ToString());

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
        lock (_tail) _log.Dispose();
    }
}
