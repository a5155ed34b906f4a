using Microsoft.Extensions.Logging;

namespace PgWarden.Postgres;

/// <summary>
/// Keeps <see cref="PostmasterHealth"/> current independently of the HA loop: every 500 ms the postmaster must
/// be alive and not stopped (postmaster.pid + /proc state), and every 5 s a fresh connection must be answered
/// (a postmaster that is alive but hung, patroni#1371). Raises <see cref="PostmasterDied"/> when a
/// postmaster that was running goes away, so the HA loop can wake at once.
/// </summary>
public sealed class PostmasterMonitor
{
    // Death and SIGSTOP must turn /primary 503 within 1 s: a 500 ms period leaves half of that for the verdict to
    // reach the REST API. Each tick is a thread-pool wake-up; at 200 ms they were a visible part of an idle agent's CPU.
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

    /// <summary>Raised (on the monitor's thread) when a postmaster seen alive is gone, stopped or a zombie.</summary>
    public event EventHandler? PostmasterDied;

    /// <summary>Raised when the health verdict flips, with the new value.</summary>
    public event EventHandler<bool>? HealthChanged;

    /// <summary>The postmaster process verdict alone: pid file names a live process that is not stopped.</summary>
    public static bool IsProcessRunning(string dataDir)
    {
        var pidFile = PostmasterPidFile.Read(dataDir);
        return pidFile is not null && ProcStat.ReadState(pidFile.Pid) is { } state && ProcStat.IsRunnableState(state);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ProcessCheckInterval, _time);
        Task<bool>? connectionCheck = null;
        var lastConnectionCheckStart = DateTimeOffset.MinValue;
        bool? connectionOk = null;
        var wasRunning = false;
        bool? lastVerdict = null;
        try
        {
            do
            {
                var now = _time.GetUtcNow();
                var running = IsProcessRunning(_dataDir);

                if (connectionCheck is { IsCompleted: true })
                {
                    connectionOk = connectionCheck is { IsCompletedSuccessfully: true, Result: true };
                    connectionCheck = null;
                }
                if (!running)
                {
                    connectionOk = null; // a new postmaster must earn its own verdict
                }
                else if (connectionCheck is null && now - lastConnectionCheckStart >= ConnectionCheckInterval)
                {
                    lastConnectionCheckStart = now;
                    connectionCheck = _canConnect(ConnectionTimeout, ct);
                }

                // Until the first connection check answers, the process check alone decides.
                var healthy = running && connectionOk != false;
                _health.Set(healthy, now);
                if (healthy != lastVerdict)
                {
                    if (lastVerdict is not null)
                        _logger.LogInformation("Postmaster health: {Verdict}", healthy ? "healthy" : "unhealthy");
                    lastVerdict = healthy;
                    HealthChanged?.Invoke(this, healthy);
                }
                if (wasRunning && !running)
                {
                    _logger.LogWarning("Postmaster of {DataDir} is gone or stopped", _dataDir);
                    PostmasterDied?.Invoke(this, EventArgs.Empty);
                }
                wasRunning = running;
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
