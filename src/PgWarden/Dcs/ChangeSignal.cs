namespace PgWarden.Dcs;

/// <summary>
/// The latch between a store's watch and the HA loop's sleep: the watch sets it on a change that should wake the
/// loop; a change seen while nobody waited (the cycle was running) is answered at once by the next wait, once.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _signal = New();

    public void Set()
    {
        lock (_gate) _signal.TrySetResult();
    }

    /// <summary>True when woken by a change, false when the timeout passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        Task changed;
        lock (_gate)
        {
            changed = _signal.Task;
            if (changed.IsCompleted)
            {
                _signal = New();
                return true;
            }
        }
        try
        {
            await changed.WaitAsync(timeout, time, ct);
        }
        catch (TimeoutException)
        {
            return false;
        }
        lock (_gate)
        {
            if (_signal.Task == changed) _signal = New();
        }
        return true;
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
