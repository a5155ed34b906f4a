using Microsoft.Extensions.Logging;

namespace PgWarden.Dcs;

/// <summary>
/// Logs the DCS keys whose values cannot be read (<see cref="ClusterView.Problems"/>), once per distinct bad value per
/// key: the loop reads the cluster every cycle, and the same garbage must not flood the log. A key that is repaired
/// is forgotten, so garbage written there again is logged again.
/// </summary>
public sealed partial class DcsValueProblemLog(ILogger logger)
{
    private readonly Dictionary<string, string> _lastBadValue = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Report(ClusterView view)
    {
        lock (_gate)
        {
            foreach (var p in view.Problems)
            {
                if (_lastBadValue.TryGetValue(p.Key, out var last) && last == p.RawValue) continue;
                _lastBadValue[p.Key] = p.RawValue;
                BadValue(logger, p.Key, p.Excerpt, p.Problem);
            }
            if (_lastBadValue.Count == view.Problems.Count) return;
            foreach (var key in _lastBadValue.Keys.Where(k => view.Problems.All(p => p.Key != k)).ToList())
            {
                _lastBadValue.Remove(key);
                Repaired(logger, key);
            }
        }
    }

    [LoggerMessage(EventId = 2600, Level = LogLevel.Warning,
        Message = "DCS key {Key} holds a value that cannot be used and is ignored: {Problem}; value: {Excerpt}")]
    private static partial void BadValue(ILogger logger, string key, string excerpt, string problem);

    [LoggerMessage(EventId = 2601, Level = LogLevel.Information, Message = "DCS key {Key} no longer holds an unusable value")]
    private static partial void Repaired(ILogger logger, string key);
}
