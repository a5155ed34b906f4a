using System.Globalization;
using System.Text;
using PgWarden.Dcs;

namespace PgWarden.Lab;

/// <summary>
/// haproxy.cfg for a cluster: read-write traffic to the member whose GET /primary answers 200, read-only traffic
/// round-robin to members whose GET /replica answers 200, and a stats page. The checks are Patroni's, so the same
/// file works in front of Patroni nodes.
/// </summary>
public static class HaproxyConfig
{
    public sealed record Backend(string Name, string PgHost, int PgPort, string ApiHost, int ApiPort);

    public static IReadOnlyList<Backend> FromMembers(IEnumerable<Member> members) =>
        members.Where(m => m.Data.ConnUrl is not null && m.Data.ApiUrl is not null)
            .Select(m =>
            {
                var (host, port) = m.Data.ParseConnUrl();
                var api = new Uri(m.Data.ApiUrl!);
                return new Backend(m.Name, host ?? api.Host, port, api.Host, api.Port);
            })
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    public static string Render(IReadOnlyList<Backend> backends, string bindAddress = "*", int rwPort = 5000, int roPort = 5001, int statsPort = 7000)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"""
            global
                maxconn 1000

            defaults
                mode tcp
                log global
                retries 2
                timeout client 30m
                timeout connect 4s
                timeout server 30m
                timeout check 5s

            listen stats
                mode http
                bind {bindAddress}:{statsPort}
                stats enable
                stats uri /

            listen primary
                bind {bindAddress}:{rwPort}
                option httpchk OPTIONS /primary
                http-check expect status 200
                default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions

            """);
        foreach (var b in backends) sb.Append(inv, $"    server {b.Name} {b.PgHost}:{b.PgPort} maxconn 100 check addr {b.ApiHost} port {b.ApiPort}\n");
        sb.Append(inv, $"""

            listen replicas
                bind {bindAddress}:{roPort}
                balance roundrobin
                option httpchk OPTIONS /replica
                http-check expect status 200
                default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions

            """);
        foreach (var b in backends) sb.Append(inv, $"    server {b.Name} {b.PgHost}:{b.PgPort} maxconn 100 check addr {b.ApiHost} port {b.ApiPort}\n");
        return sb.ToString();
    }
}
