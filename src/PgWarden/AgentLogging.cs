using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using PgWarden.Config;

namespace PgWarden;

/// <summary>Logging for the agent: one line per event, in Patroni's shape ("2026-11-22 03:44:13,123 INFO: ...").</summary>
public static class AgentLogging
{
    public static ILoggerFactory Create(AgentConfig config) => Create(ParseLevel(config.Log.Level));

    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(level);
        // Kestrel and the HTTP client log every request at Information: keep them to warnings.
        b.AddFilter("Microsoft", LogLevel.Warning);
        b.AddFilter("System.Net.Http", LogLevel.Warning);
        b.AddConsole(o => o.FormatterName = PatroniStyleFormatter.FormatterName);
        // The formatter is registered directly: AddConsoleFormatter<,> also binds its options from configuration by
        // reflection (not trim-safe), and this formatter has no options to bind.
        b.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, PatroniStyleFormatter>());
    });

    public static LogLevel ParseLevel(string level) => level.ToUpperInvariant() switch
    {
        "DEBUG" => LogLevel.Debug,
        "WARNING" or "WARN" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "CRITICAL" or "FATAL" => LogLevel.Critical,
        _ => LogLevel.Information,
    };
}

internal sealed class PatroniStyleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "patroni";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        var level = logEntry.LogLevel switch
        {
            LogLevel.Trace or LogLevel.Debug => "DEBUG",
            LogLevel.Information => "INFO",
            LogLevel.Warning => "WARNING",
            LogLevel.Error => "ERROR",
            _ => "CRITICAL",
        };
        var now = DateTime.Now;
        textWriter.Write(now.ToString("yyyy-MM-dd HH:mm:ss,fff", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(level);
        textWriter.Write(": ");
        textWriter.WriteLine(message);
        if (logEntry.Exception is { } e && logEntry.LogLevel >= LogLevel.Error) textWriter.WriteLine(e.ToString());
    }
}
