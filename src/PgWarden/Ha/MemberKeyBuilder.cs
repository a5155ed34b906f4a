using PgWarden.Config;
using PgWarden.Dcs;
using PgWarden.Postgres;

namespace PgWarden.Ha;

/// <summary>Builds the members/&lt;name&gt; value that peers and patronictl read (compat §1.2.2, §7.1).</summary>
public static class MemberKeyBuilder
{
    /// <summary>The Patroni release whose wire format we speak; peers compare member versions.</summary>
    public const string PatroniCompatVersion = "3.0.2";

    public static string ConnUrl(AgentConfig config) =>
        $"postgres://{config.Postgresql.ConnectAddress}/{config.Postgresql.Database}";

    public static string ApiUrl(AgentConfig config) =>
        $"{(string.IsNullOrEmpty(config.RestApi.CertFile) ? "http" : "https")}://{config.RestApi.ConnectAddress}/patroni";

    public static MemberData Build(AgentConfig config, string pgState, string role, PostgresProbe? probe, bool paused, bool pendingRestart)
    {
        var running = probe is not null;
        var tags = config.Tags.ToMemberJson();
        return new MemberData
        {
            ConnUrl = ConnUrl(config),
            ApiUrl = ApiUrl(config),
            State = pgState,
            Role = role,
            Version = PatroniCompatVersion,
            XlogLocation = running ? probe!.WalPosition : null,
            ReceiveLsn = running && probe!.InRecovery ? probe.ReceiveLsn : null,
            ReplayLsn = running && probe!.InRecovery ? probe.ReplayLsn : null,
            ReplicationState = running && probe!.InRecovery ? probe.ReplicationState : null,
            Timeline = running && probe!.Timeline > 0 ? probe.Timeline : null,
            Tags = tags.Count > 0 ? tags : null,
            PendingRestart = pendingRestart,
            Pause = paused,
            PgWardenVersion = AgentVersion.Current,
        };
    }
}
