using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PgWarden.Config;

namespace PgWarden.Ha.Safety;

/// <summary>
/// The Linux watchdog (compat §5.14): opened right before this node becomes primary, kicked (one byte written)
/// after every successful renewal or failsafe confirmation, and disarmed with the magic close ('V', then close)
/// on demotion, pause and shutdown. If the agent hangs while PostgreSQL keeps running as primary, the kernel
/// reboots the machine before the lock expires: timeout = ttl - safety_margin.
/// </summary>
public sealed class Watchdog(WatchdogConfig config, ILogger log) : IDisposable
{
    private readonly Lock _gate = new();
    private FileStream? _device;

    public WatchdogConfig Config => config;
    public bool IsOff => config.Mode == "off";
    public bool IsRequired => config.Mode == "required";
    public bool IsActive { get { lock (_gate) return _device is not null; } }

    /// <summary>Keepalives written since the process started (for tests and /patroni).</summary>
    public int Keepalives { get; private set; }

    /// <summary>ttl - safety_margin (-1: ttl / 2); null when it would not leave a loop_wait of slack (then unusable).</summary>
    public static int? TimeoutFor(WatchdogConfig config, DynamicConfig d)
    {
        var timeout = config.SafetyMargin == -1 ? d.Ttl / 2 : d.Ttl - config.SafetyMargin;
        return timeout - d.LoopWait < 0 ? null : timeout;
    }

    /// <summary>
    /// Why a required watchdog cannot be used (the device is missing or not writable, or the timeout leaves no
    /// slack); null when it can, or when the mode is not required. Checked without opening it: opening arms it.
    /// </summary>
    public string? RequiredButUnusable(DynamicConfig d)
    {
        if (!IsRequired || IsActive) return null;
        if (TimeoutFor(config, d) is null)
            return $"watchdog timeout ttl {d.Ttl} - safety_margin {config.SafetyMargin} is smaller than loop_wait {d.LoopWait}";
        if (!File.Exists(config.Device)) return $"watchdog device {config.Device} does not exist";
        if (Access(config.Device, 2 /* W_OK */) != 0) return $"watchdog device {config.Device} is not writable";
        return null;
    }

    /// <summary>Open and arm the device. False only when the mode is required and it could not be armed.</summary>
    public bool Activate(DynamicConfig d)
    {
        if (IsOff) return true;
        lock (_gate)
        {
            if (_device is not null) return true;
            var timeout = TimeoutFor(config, d);
            if (timeout is null)
            {
                WatchdogFailedOr(d, $"timeout ttl - safety_margin leaves less than loop_wait {d.LoopWait} s");
                return !IsRequired;
            }
            try
            {
                // FileShare.ReadWrite: the stand-in device a test creates is read while we hold it.
                _device = new FileStream(config.Device, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WatchdogFailedOr(d, e.Message);
                return !IsRequired;
            }
            SetTimeout(timeout.Value);
            WriteByte((byte)'1');
            SafetyLog.WatchdogActivated(log, config.Device, timeout.Value);
            return true;
        }
    }

    /// <summary>One keepalive (after a renewal or a failsafe confirmation); nothing when not active.</summary>
    public void Keepalive()
    {
        lock (_gate) WriteByte((byte)'1');
    }

    /// <summary>The magic close: write 'V' and close, so the driver stops the timer instead of rebooting.</summary>
    public void Disarm(string why)
    {
        lock (_gate)
        {
            if (_device is null) return;
            try
            {
                _device.WriteByte((byte)'V');
                _device.Flush();
            }
            catch (IOException) { }
            _device.Dispose();
            _device = null;
            SafetyLog.WatchdogDisarmed(log, config.Device, why);
        }
    }

    public void Dispose() => Disarm("agent exit");

    private bool _failureLogged;

    /// <summary>Required: every failure is an error worth repeating. Automatic: said once, then the node runs without.</summary>
    private void WatchdogFailedOr(DynamicConfig _, string reason)
    {
        if (!IsRequired && _failureLogged) return;
        _failureLogged = true;
        SafetyLog.WatchdogFailed(log, config.Device, reason);
    }

    private void WriteByte(byte b)
    {
        if (_device is null) return;
        try
        {
            _device.WriteByte(b);
            _device.Flush();
            Keepalives++;
        }
        catch (IOException e) { SafetyLog.WatchdogFailed(log, config.Device, e.Message); }
    }

    private void SetTimeout(int seconds)
    {
        if (_device is null) return;
        var value = seconds;
        // WDIOC_SETTIMEOUT = _IOWR('W', 6, int); a stand-in file answers ENOTTY, which is fine.
        if (Ioctl((int)_device.SafeFileHandle.DangerousGetHandle(), 0xC0045706, ref value) != 0)
            SafetyLog.WatchdogTimeoutNotSet(log, config.Device, $"errno {Marshal.GetLastPInvokeError()}");
    }

    // DllImport rather than LibraryImport: the source-generated form needs AllowUnsafeBlocks project-wide.
#pragma warning disable SYSLIB1054, CA5392
    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static extern int Ioctl(int fd, ulong request, ref int value);

    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);
#pragma warning restore SYSLIB1054, CA5392
}
