namespace PgWarden.Dcs;

/// <summary>How a DCS call failed. Later features (failsafe, fencing) act differently on each kind.</summary>
public enum DcsErrorKind
{
    ConnectionRefused,
    Timeout,
    NoLeader,
    AuthFailed,
    LeaseNotFound,
    Protocol,
    Other,
}

public sealed class DcsException(DcsErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public DcsErrorKind Kind { get; } = kind;
}
