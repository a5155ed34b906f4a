using System.Runtime.InteropServices;

namespace PgWarden.Postgres;

/// <summary>kill(2) and chown(2): the two POSIX calls .NET does not expose.</summary>
internal static class PosixSignals
{
    public const int SigKill = 9;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>True when the signal was delivered (or, for signal 0, the process exists).</summary>
    public static bool Send(int pid, int signal) => pid > 0 && (Kill(pid, signal) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM: exists */ && signal == 0);

    public static void Chown(string path, int uid, int gid)
    {
        if (ChownNative(path, uid, gid) != 0)
            throw new IOException($"chown {uid}:{gid} '{path}' failed with errno {Marshal.GetLastPInvokeError()}.");
    }

    // DllImport rather than LibraryImport: the source-generated form needs AllowUnsafeBlocks project-wide.
#pragma warning disable SYSLIB1054, CA5392
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int sig);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int ChownNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);
#pragma warning restore SYSLIB1054, CA5392
}
