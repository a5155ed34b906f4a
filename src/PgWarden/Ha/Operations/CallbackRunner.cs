using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace PgWarden.Ha.Operations;

/// <summary>
/// postgresql.callbacks (compat §5.13): `&lt;command&gt; &lt;action&gt; &lt;role&gt; &lt;scope&gt;`, run without
/// waiting. One callback runs at a time (on_reload has its own slot); a new one kills the previous with its
/// children; one that runs longer than the time limit is killed. Nothing here can fail the HA loop.
/// </summary>
public sealed class CallbackRunner(IReadOnlyDictionary<string, string> callbacks, string scope, ILogger log, TimeSpan timeLimit) : IDisposable
{
    private readonly object _gate = new();
    private Process? _main;
    private Process? _reload;

    public static readonly TimeSpan DefaultTimeLimit = TimeSpan.FromMinutes(5);

    public bool Has(string action) => callbacks.ContainsKey(action);

    /// <summary>Starts the callback for the action if one is configured; role is master/replica/demoted/...</summary>
    public void Call(string action, string role)
    {
        if (!callbacks.TryGetValue(action, out var command) || string.IsNullOrWhiteSpace(command)) return;
        var words = ShellWords.Split(command);
        if (words.Count == 0) return;
        var psi = new ProcessStartInfo(words[0]) { UseShellExecute = false, RedirectStandardInput = false };
        foreach (var w in words.Skip(1)) psi.ArgumentList.Add(w);
        psi.ArgumentList.Add(action);
        psi.ArgumentList.Add(role == "promoted" ? "master" : role);
        psi.ArgumentList.Add(scope);
        var display = string.Join(' ', psi.ArgumentList.Prepend(words[0]));

        lock (_gate)
        {
            var previous = action == "on_reload" ? _reload : _main;
            if (previous is not null) Kill(previous, display, "a newer callback replaces it");
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                OperationLog.CallbackNotStarted(log, display, e.Message);
                return;
            }
            OperationLog.CallbackStarted(log, display);
            if (action == "on_reload") _reload = process; else _main = process;
            _ = WatchAsync(process, display);
        }
    }

    private async Task WatchAsync(Process process, string display)
    {
        using var cts = new CancellationTokenSource(timeLimit);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            if (process.ExitCode != 0 && process.ExitCode != -1) OperationLog.CallbackFailed(log, display, process.ExitCode);
        }
        catch (OperationCanceledException)
        {
            Kill(process, display, $"still running after {timeLimit.TotalSeconds:0} s");
        }
        catch (InvalidOperationException) { /* killed and disposed by a newer callback */ }
        finally
        {
            lock (_gate)
            {
                if (ReferenceEquals(_main, process)) _main = null;
                if (ReferenceEquals(_reload, process)) _reload = null;
                process.Dispose();
            }
        }
    }

    private void Kill(Process process, string display, string why)
    {
        try
        {
            if (process.HasExited) return;
            process.Kill(entireProcessTree: true);
            OperationLog.CallbackKilled(log, display, why);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _main?.Dispose();
            _reload?.Dispose();
        }
    }
}

/// <summary>shlex.split for callback commands: blanks separate words; single and double quotes group; backslash escapes.</summary>
public static class ShellWords
{
    public static IReadOnlyList<string> Split(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < command.Length) current.Append(command[++i]);
                else current.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (c == '\\' && i + 1 < command.Length) { current.Append(command[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
            }
            else { current.Append(c); inWord = true; }
        }
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
