using System.Net;
using System.Net.Sockets;
using PgWarden.Dcs;

namespace PgWarden.Api;

/// <summary>
/// restapi.allowlist (hosts, IPs, CIDRs) plus, with allowlist_include_members, the addresses of every member's
/// api_url host (compat §2.12). Host names are resolved when the list is built (Patroni resolves them on start and
/// reload); members' hosts are resolved on each check from the latest cluster view, so a new member is admitted
/// as soon as its key appears.
/// </summary>
public sealed class RestAllowlist
{
    private readonly IReadOnlyList<IPNetwork> _networks;
    private readonly bool _includeMembers;

    private RestAllowlist(IReadOnlyList<IPNetwork> networks, bool includeMembers)
    {
        _networks = networks;
        _includeMembers = includeMembers;
    }

    /// <summary>True when neither allowlist nor allowlist_include_members is configured: everyone may call.</summary>
    public bool IsOpen => _networks.Count == 0 && !_includeMembers;

    public static RestAllowlist Build(IReadOnlyList<string> entries, bool includeMembers)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var networks = new List<IPNetwork>();
        foreach (var raw in entries)
        {
            var entry = raw.Trim();
            if (entry.Length == 0) continue;
            if (IPNetwork.TryParse(entry, out var net)) networks.Add(net);
            else if (IPAddress.TryParse(entry.Trim('[', ']'), out var ip)) networks.Add(Single(ip));
            else networks.AddRange(Resolve(entry).Select(Single));
        }
        return new RestAllowlist(networks, includeMembers);
    }

    public bool Allows(IPAddress? remote, ClusterView? view)
    {
        if (IsOpen) return true;
        if (remote is null) return false;
        var candidates = remote.IsIPv4MappedToIPv6 ? new[] { remote, remote.MapToIPv4() } : [remote];
        foreach (var ip in candidates)
        {
            if (_networks.Any(n => n.Contains(ip))) return true;
            if (_includeMembers && view is not null && MemberAddresses(view).Contains(ip)) return true;
        }
        return false;
    }

    private static HashSet<IPAddress> MemberAddresses(ClusterView view)
    {
        var result = new HashSet<IPAddress>();
        foreach (var m in view.Members)
        {
            if (m.Data.ApiUrl is not { } url || !Uri.TryCreate(url, UriKind.Absolute, out var uri)) continue;
            var host = uri.Host.Trim('[', ']');
            if (IPAddress.TryParse(host, out var ip)) result.Add(ip);
            else foreach (var a in Resolve(host)) result.Add(a);
        }
        return result;
    }

    private static IPAddress[] Resolve(string host)
    {
        try { return Dns.GetHostAddresses(host); }
        catch (SocketException) { return []; }
        catch (ArgumentException) { return []; }
    }

    private static IPNetwork Single(IPAddress ip) => new(ip, ip.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32);
}
