using System.Text.Json.Nodes;

namespace PgWarden.Ha.Operations;

/// <summary>Filters of a restart request (POST /restart, compat §2.9); null = not given.</summary>
public sealed record RestartRequest
{
    /// <summary>Restart only when a restart is pending (Patroni checks the key's presence, not its value).</summary>
    public bool RestartPending { get; init; }
    /// <summary>master/primary or replica.</summary>
    public string? Role { get; init; }
    /// <summary>Restart only when the running server_version_num is below this.</summary>
    public int? PostgresVersion { get; init; }
    public string? PostgresVersionText { get; init; }
    /// <summary>Start timeout for this restart (else primary_start_timeout).</summary>
    public int? TimeoutSeconds { get; init; }
    public DateTimeOffset? Schedule { get; init; }
}

/// <summary>What an operation answered: Patroni's status code and text.</summary>
public sealed record OperationOutcome(int Code, string Message);

/// <summary>
/// Operations requested from outside the HA loop (REST, scheduled restarts). The REST side enqueues and (for a
/// restart) awaits the outcome; the loop runs them at one well-defined point of its cycle, after the HA action and
/// before publishing, so an operation never races an HA action on the same PostgreSQL.
/// </summary>
public sealed class OperationQueue
{
    private readonly object _gate = new();
    private PendingOperation? _pending;
    private bool _reloadRequested;
    private bool _localConfigRereadRequested;
    private JsonObject? _scheduledRestart;

    /// <summary>"restart" or "reinitialize" while one is queued or running; null otherwise.</summary>
    public string? Busy { get { lock (_gate) return _pending?.Name ?? _running; } }
    private string? _running;

    /// <summary>Raised when something was queued, so the loop runs at once instead of after loop_wait.</summary>
    public event Action? Queued;

    /// <summary>Queue an immediate restart; the task completes when the loop finished it.</summary>
    public Task<OperationOutcome> RequestRestartAsync(RestartRequest request)
    {
        var op = new PendingOperation("restart", request, false);
        lock (_gate)
        {
            if (_pending is not null || _running is not null)
                return Task.FromResult(new OperationOutcome(503, $"{_pending?.Name ?? _running} already in progress"));
            _pending = op;
        }
        Queued?.Invoke();
        return op.Outcome.Task;
    }

    /// <summary>Queue a reinitialize; force cancels a queued (not yet running) restart or reinitialize.</summary>
    public OperationOutcome RequestReinitialize(bool force)
    {
        PendingOperation? cancelled = null;
        lock (_gate)
        {
            if (_running is not null || (_pending is not null && !force))
                return new OperationOutcome(503, $"{_running ?? _pending!.Name} already in progress");
            cancelled = _pending;
            _pending = new PendingOperation("reinitialize", null, force);
        }
        cancelled?.Outcome.TrySetResult(new OperationOutcome(503, "restart failed"));
        Queued?.Invoke();
        return new OperationOutcome(200, "reinitialize started");
    }

    /// <summary>POST /reload, `pgwarden reload`, SIGHUP: re-read the local YAML file, then rewrite and reload PostgreSQL.</summary>
    public void RequestReload()
    {
        lock (_gate) _reloadRequested = _localConfigRereadRequested = true;
        Queued?.Invoke();
    }

    /// <summary>Store a scheduled restart; false when one is already scheduled.</summary>
    public bool TrySchedule(JsonObject scheduled)
    {
        lock (_gate)
        {
            if (_scheduledRestart is not null) return false;
            _scheduledRestart = scheduled;
        }
        Queued?.Invoke();
        return true;
    }

    /// <summary>Delete the scheduled restart; false when there was none.</summary>
    public bool CancelScheduled()
    {
        lock (_gate)
        {
            if (_scheduledRestart is null) return false;
            _scheduledRestart = null;
        }
        Queued?.Invoke();
        return true;
    }

    /// <summary>A copy of the scheduled restart as stored in the member key, or null.</summary>
    public JsonObject? ScheduledRestart { get { lock (_gate) return (JsonObject?)_scheduledRestart?.DeepClone(); } }

    internal PendingOperation? TakePending()
    {
        lock (_gate)
        {
            var op = _pending;
            _pending = null;
            _running = op?.Name;
            return op;
        }
    }

    internal void Finished()
    {
        lock (_gate) _running = null;
    }

    /// <summary>Whether the local configuration file must be re-read before this cycle (cleared by the call).</summary>
    internal bool TakeLocalConfigReread()
    {
        lock (_gate)
        {
            var r = _localConfigRereadRequested;
            _localConfigRereadRequested = false;
            return r;
        }
    }

    internal bool TakeReload()
    {
        lock (_gate)
        {
            var r = _reloadRequested;
            _reloadRequested = false;
            return r;
        }
    }

    internal sealed record PendingOperation(string Name, RestartRequest? Restart, bool Force)
    {
        public TaskCompletionSource<OperationOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
