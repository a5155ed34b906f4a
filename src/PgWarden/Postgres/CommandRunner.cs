using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace PgWarden.Postgres;

public sealed record CommandResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs PostgreSQL tools with an argument list (never through a shell). When <c>runAsOsUser</c> is set (root
/// test processes only) the command runs as that user through <c>runuser -u &lt;user&gt; --</c>.
/// </summary>
internal sealed class CommandRunner(string binDir, string? runAsOsUser, ILogger logger)
{
    public string? RunAsOsUser { get; } = runAsOsUser;

    /// <summary>The tool's path in bin_dir, or its bare name (found through PATH) when bin_dir is empty.</summary>
    public string Tool(string name) => string.IsNullOrEmpty(binDir) ? name : Path.Combine(binDir, name);

    public async Task<CommandResult> RunAsync(string tool, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = StartInfo(tool, args, environment);
        logger.LogDebug("Running {Tool} {Args}", tool, string.Join(' ', args));
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(127, "", $"cannot start {psi.FileName}: {e.Message}");
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            ct.ThrowIfCancellationRequested();
            return new CommandResult(-1, await Drain(stdout).ConfigureAwait(false),
                $"{tool} did not finish within {timeout.TotalSeconds:0.#} s and was killed. " + await Drain(stderr).ConfigureAwait(false));
        }
        return new CommandResult(process.ExitCode, await Drain(stdout).ConfigureAwait(false), await Drain(stderr).ConfigureAwait(false));
    }

    /// <summary>The synchronous form for quick read-only tools (pg_controldata).</summary>
    public CommandResult Run(string tool, IReadOnlyList<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = new Process { StartInfo = StartInfo(tool, args, environment) };
        logger.LogDebug("Running {Tool} {Args}", tool, string.Join(' ', args));
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(127, "", $"cannot start {process.StartInfo.FileName}: {e.Message}");
        }
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout))
        {
            KillQuietly(process);
            return new CommandResult(-1, stdout, $"{tool} did not finish within {timeout.TotalSeconds:0.#} s and was killed.");
        }
        process.WaitForExit(); // flushes the asynchronous stderr reader
        return new CommandResult(process.ExitCode, stdout, stderr.IsCompleted ? stderr.Result : "");
    }

    private ProcessStartInfo StartInfo(string tool, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (RunAsOsUser is null)
        {
            psi.FileName = Tool(tool);
        }
        else
        {
            psi.FileName = "runuser";
            foreach (var a in new[] { "-u", RunAsOsUser, "--", Tool(tool) }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        return psi;
    }

    private static async Task<string> Drain(Task<string> output)
    {
        // A killed tool's grandchildren may still hold the pipe: do not wait for them forever.
        try { return await output.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false); }
        catch (TimeoutException) { return ""; }
    }

    private static void KillQuietly(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }
}
