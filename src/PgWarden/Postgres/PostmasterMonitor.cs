using Microsoft.Extensions.Logging;

namespace PgWarden.Postgres;

/// <summary>
/// Keeps <see cref="PostmasterHealth"/> current independently of the HA loop. A postmaster's exit is learnt the
/// moment it happens from a pidfd (<see cref="ProcessExitWatch"/>); a stopped (SIGSTOP) postmaster from the
/// process check that every read of the verdict older than 500 ms runs first; a hung one from a fresh connection
/// every 5 s (patroni#1371). Raises <see cref="PostmasterDied"/> when a postmaster that was running goes away, so
/// the HA loop can wake at once. Without pidfds (kernel before 5.3) the process check runs every 500 ms instead.
/// </summary>
public sealed class PostmasterMonitor
{
    // Death and SIGSTOP must turn /primary 503 within 1 s: a verdict is never read older than this. Before pidfds
    // and refresh-on-read, a 500 ms timer did the process check, 2 thread-pool wake-ups a second for an idle agent
    // (the largest share of its idle CPU in perf, with the pid-file parsing).
    public static readonly TimeSpan ProcessCheckInterval = TimeSpan.FromMilliseconds(500);
    // A fresh connection costs a backend fork (see PostmasterProbe for why it is no login). Death and SIGSTOP are
    // already seen by the /proc check; the fresh connection catches the rarer hangs.
    public static readonly TimeSpan ConnectionCheckInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(1);

    private readonly string _dataDir;
    private readonly Func<TimeSpan, CancellationToken, Task<bool>> _canConnect;
    private readonly PostmasterHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _verdictLock = new();
    private bool? _connectionOk;
    private bool _wasRunning;
    private bool? _lastVerdict;

    public PostmasterMonitor(PostgresInstance postgres, PostmasterHealth health, TimeProvider time, ILogger logger)
        : this(postgres?.DataDir ?? throw new ArgumentNullException(nameof(postgres)), postgres.CanConnectAsync, health, time, logger)
    {
    }

    /// <param name="canConnect">A fresh, unpooled connection attempt bounded by the given timeout.</param>
    public PostmasterMonitor(string dataDir, Func<TimeSpan, CancellationToken, Task<bool>> canConnect, PostmasterHealth health,
        TimeProvider time, ILogger logger)
    {
        _dataDir = dataDir;
        _canConnect = canConnect;
        _health = health;
        _time = time;
        _logger = logger;
    }

    public PostmasterHealth Health => _health;

    /// <summary>Raised (on the monitor's or a reader's thread) when a postmaster seen alive is gone, stopped or a zombie.</summary>
    public event EventHandler? PostmasterDied;

    /// <summary>Raised when the health verdict flips, with the new value.</summary>
    public event EventHandler<bool>? HealthChanged;

    /// <summary>The postmaster process verdict alone: pid file names a live process that is not stopped.</summary>
    public static bool IsProcessRunning(string dataDir) => RunningPid(dataDir) is not null;

    private static int? RunningPid(string dataDir)
    {
        var pidFile = PostmasterPidFile.Read(dataDir);
        return pidFile is not null && ProcStat.ReadState(pidFile.Pid) is { } state && ProcStat.IsRunnableState(state) ? pidFile.Pid : null;
    }

    /// <summary>The process check: updates the verdict and raises the events; returns the running postmaster's pid.</summary>
    private int? CheckProcess()
    {
        var pid = RunningPid(_dataDir);
        var running = pid is not null;
        bool healthy, flipped, logFlip, died;
        lock (_verdictLock)
        {
            if (!running) _connectionOk = null; // a new postmaster must earn its own verdict
            // Until the first connection check answers, the process check alone decides.
            healthy = running && _connectionOk != false;
            _health.Set(healthy, _time.GetUtcNow());
            flipped = healthy != _lastVerdict;
            logFlip = flipped && _lastVerdict is not null;
            _lastVerdict = healthy;
            died = _wasRunning && !running;
            _wasRunning = running;
        }
        if (logFlip) _logger.LogInformation("Postmaster health: {Verdict}", healthy ? "healthy" : "unhealthy");
        if (flipped) HealthChanged?.Invoke(this, healthy);
        if (died)
        {
            _logger.LogWarning("Postmaster of {DataDir} is gone or stopped", _dataDir);
            PostmasterDied?.Invoke(this, EventArgs.Empty);
        }
        return pid;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        _health.RefreshOnRead(() => CheckProcess(), _time, ProcessCheckInterval);
        Task<bool>? connectionCheck = null;
        var lastConnectionCheckStart = DateTimeOffset.MinValue;
        ProcessExitWatch? watch = null;
        int? watchedPid = null;
        try
        {
            while (true)
            {
                if (connectionCheck is { IsCompleted: true })
                {
                    lock (_verdictLock) _connectionOk = connectionCheck is { IsCompletedSuccessfully: true, Result: true };
                    connectionCheck = null;
                }
                var pid = CheckProcess();
                var now = _time.GetUtcNow();
                if (pid is not null && connectionCheck is null && now - lastConnectionCheckStart >= ConnectionCheckInterval)
                {
                    lastConnectionCheckStart = now;
                    connectionCheck = _canConnect(ConnectionTimeout, ct);
                }
                if (pid != watchedPid)
                {
                    watch?.Dispose();
                    watch = pid is { } p ? ProcessExitWatch.TryStart(p) : null;
                    watchedPid = pid;
                }

                // Sleep until the postmaster exits, the connection check answers, or the next connection check is due.
                // Without a pidfd, or while no postmaster runs (the agent is about to start one, whose exit watch
                // should be armed at once), every 500 ms as before.
                var wait = pid is null || watch is null
                    ? ProcessCheckInterval
                    : Max(ConnectionCheckInterval - (now - lastConnectionCheckStart), TimeSpan.FromMilliseconds(50));
                using var nap = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var wakeups = new List<Task>(3) { Task.Delay(wait, _time, nap.Token) };
                if (watch is not null) wakeups.Add(watch.Exited);
                if (connectionCheck is not null) wakeups.Add(connectionCheck);
                await Task.WhenAny(wakeups).ConfigureAwait(false);
                await nap.CancelAsync().ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            watch?.Dispose();
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
