using System.Text.Json.Nodes;

namespace PgWarden.Dcs;

/// <summary>
/// The JSON value of members/&lt;name&gt;, with the fields real Patroni peers and patronictl read (compat §1.2.2, §7.1).
/// Null fields are not written.
/// </summary>
public sealed record MemberData
{
    public string? ConnUrl { get; init; }
    public string? ApiUrl { get; init; }
    /// <summary>running, starting, stopped, crashed, creating replica, ...</summary>
    public string? State { get; init; }
    /// <summary>master (what Patroni 3.0 writes; 4.x writes primary, both are read), replica, uninitialized, ...</summary>
    public string? Role { get; init; }
    /// <summary>The Patroni version this agent is wire-compatible with (peers compare it).</summary>
    public string? Version { get; init; }
    public long? XlogLocation { get; init; }
    public long? ReceiveLsn { get; init; }
    public long? ReplayLsn { get; init; }
    public string? ReplicationState { get; init; }
    public int? Timeline { get; init; }
    public JsonObject? Tags { get; init; }
    public bool PendingRestart { get; init; }
    public JsonObject? PendingRestartReason { get; init; }
    public JsonObject? ScheduledRestart { get; init; }
    public bool Pause { get; init; }
    /// <summary>false only on a new leader until its post-promotion checkpoint is done.</summary>
    public bool? CheckpointAfterPromote { get; init; }
    /// <summary>PgWarden's own version (an extra field; Patroni ignores it).</summary>
    public string? PgWardenVersion { get; init; }

    public bool IsPrimaryRole => Role is "master" or "primary";

    public string? Host => ParseConnUrl().Host;
    public int Port => ParseConnUrl().Port;

    public (string? Host, int Port) ParseConnUrl()
    {
        if (string.IsNullOrEmpty(ConnUrl) || !Uri.TryCreate(ConnUrl, UriKind.Absolute, out var u)) return (null, 5432);
        return (u.Host.Trim('[', ']'), u.Port > 0 ? u.Port : 5432);
    }
}
