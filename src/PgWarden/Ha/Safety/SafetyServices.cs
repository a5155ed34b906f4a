namespace PgWarden.Ha.Safety;

/// <summary>The data-safety parts the HA loop uses: the watchdog and failsafe mode (both sides).</summary>
public sealed record SafetyServices(Watchdog Watchdog, FailsafeState Failsafe, FailsafeClient FailsafeClient);
