using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>libpq connection strings for members, from the conn_url each publishes in the DCS.</summary>
public static class Dsn
{
    /// <summary>patronictl dsn's output: "host=H port=P".</summary>
    public static string ForMember(Member member)
    {
        var (host, port) = member.Data.ParseConnUrl();
        return $"host={host} port={port}";
    }

    /// <summary>
    /// One multi-host string for all members (the leader first), for clients that find the primary or a standby
    /// themselves: libpq and Npgsql try the hosts in turn and keep the first whose role matches
    /// target_session_attrs (read-write, prefer-standby, ...).
    /// </summary>
    public static string MultiHost(ClusterView view, string targetSessionAttrs)
    {
        var members = view.Members.Where(m => m.Data.ParseConnUrl().Host is not null)
            .OrderBy(m => m.Name == view.Leader?.Name ? 0 : 1).ToList();
        if (members.Count == 0) throw new ArgumentException("no member publishes a conn_url in the DCS");
        var hosts = string.Join(',', members.Select(m => m.Data.ParseConnUrl().Host));
        var ports = string.Join(',', members.Select(m => m.Data.ParseConnUrl().Port));
        return $"host={hosts} port={ports} target_session_attrs={targetSessionAttrs}";
    }
}
