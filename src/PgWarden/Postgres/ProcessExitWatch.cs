using System.Runtime.InteropServices;

namespace PgWarden.Postgres;

/// <summary>
/// Learns the moment a process that is not our child exits, without polling: a pidfd (pidfd_open(2), Linux 5.3+)
/// becomes readable when the process exits. One background thread per watched process sleeps in poll(2) on the
/// pidfd and on an eventfd that cancellation writes to, so an idle agent pays no wake-up at all for it.
/// </summary>
internal sealed class ProcessExitWatch : IDisposable
{
    private const long PidfdOpenSyscall = 434; // the same number on x86-64 and arm64 (syscalls added after 5.1 are unified)
    private const short PollIn = 0x1;
    private const int EfdCloexec = 0x80000;

    private readonly int _pidfd;
    private readonly int _cancelFd;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _fdLock = new();
    private bool _waitEnded;
    private bool _disposed;

    private ProcessExitWatch(int pidfd, int cancelFd, int pid)
    {
        _pidfd = pidfd;
        _cancelFd = cancelFd;
        var thread = new Thread(Wait) { IsBackground = true, Name = $"exit watch {pid}" };
        thread.Start();
    }

    /// <summary>Completes when the process exits; never completes after <see cref="Dispose"/> stopped the watch.</summary>
    public Task Exited => _exited.Task;

    /// <summary>A watch on <paramref name="pid"/>, or null where pidfds are unavailable (old kernel, seccomp) or the
    /// process is already gone: the caller falls back to polling.</summary>
    public static ProcessExitWatch? TryStart(int pid)
    {
        if (!OperatingSystem.IsLinux() || pid <= 0) return null;
        int pidfd;
        try { pidfd = (int)Syscall(PidfdOpenSyscall, pid, 0); }
        catch (EntryPointNotFoundException) { return null; }
        if (pidfd < 0) return null;
        var cancelFd = EventFd(0, EfdCloexec);
        if (cancelFd < 0)
        {
            Close(pidfd);
            return null;
        }
        return new ProcessExitWatch(pidfd, cancelFd, pid);
    }

    private void Wait()
    {
        var fds = new[] { new PollFd { Fd = _pidfd, Events = PollIn }, new PollFd { Fd = _cancelFd, Events = PollIn } };
        while (true)
        {
            var n = Poll(fds, 2, -1);
            if (n < 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */) continue;
            if (n > 0 && fds[0].Revents != 0 && fds[1].Revents == 0) _exited.TrySetResult();
            break;
        }
        // The eventfd is closed by whichever of this thread and Dispose comes last: writing to a closed (and maybe
        // reused) descriptor number could hit an unrelated file or socket.
        lock (_fdLock)
        {
            _waitEnded = true;
            Close(_pidfd);
            if (_disposed) Close(_cancelFd);
        }
    }

    /// <summary>Stops the watch (wakes the thread) and releases both descriptors.</summary>
    public void Dispose()
    {
        lock (_fdLock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_waitEnded) Close(_cancelFd);
            else _ = Write(_cancelFd, [1UL], 8);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    // DllImport rather than LibraryImport: the source-generated form needs AllowUnsafeBlocks project-wide.
#pragma warning disable SYSLIB1054, CA5392
    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long Syscall(long number, long arg1, long arg2);

    [DllImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static extern int EventFd(uint initval, int flags);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll([In, Out] PollFd[] fds, nuint nfds, int timeout);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern nint Write(int fd, ulong[] buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
#pragma warning restore SYSLIB1054, CA5392
}
