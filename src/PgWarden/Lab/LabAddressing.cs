using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PgWarden.Lab;

/// <summary>
/// Where a lab lives on loopback and which OS users it runs as, so several labs (and the integration tests) can
/// run side by side: front address NET.10 (HAProxy, a single etcd), nodes NET.11.., three etcd members on
/// NET.7-9, users PREFIXnode1...
/// </summary>
public sealed record LabAddressing(string Net, string UserPrefix, int EtcdMembers)
{
    public const string DefaultNet = "127.0.0";
    public const string DefaultUserPrefix = "pg";

    public string FrontAddress => $"{Net}.10";
    public string NodeAddress(int index) => $"{Net}.{10 + index}";
    public string NodeUser(int index) => $"{UserPrefix}node{index}";

    public IReadOnlyList<string> EtcdAddresses =>
        EtcdMembers == 1 ? [FrontAddress] : Enumerable.Range(7, EtcdMembers).Select(i => $"{Net}.{i}").ToList();

    /// <summary>The default directory of a lab on this net: the default net keeps the historical path.</summary>
    public static string DefaultDir(string net) => net == DefaultNet ? LabRunner.DefaultDir : $"{LabRunner.DefaultDir}-{net}";

    /// <summary>NET is three octets of 127.0.0.0/8 (loopback answers on all of it without configuration).</summary>
    public static string? ValidateNet(string net)
    {
        var parts = net.Split('.');
        if (parts.Length != 3 || parts[0] != "127" || parts.Skip(1).Any(p => !byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            return $"--net '{net}' is not three octets of loopback, like 127.0.0 or 127.0.3";
        return null;
    }

    /// <summary>A prefix for useradd names: lowercase letters and digits, short enough for "PREFIXnode9".</summary>
    public static string? ValidateUserPrefix(string prefix) =>
        prefix.Length is >= 1 and <= 16 && char.IsAsciiLetterLower(prefix[0]) && prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            ? null
            : $"--user-prefix '{prefix}' must be 1 to 16 lowercase letters or digits, starting with a letter";

    /// <summary>The tag on every iptables rule of the lab in DIR: `heal` and `down` find their rules by it.</summary>
    public static string FirewallTag(string dir)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dir).TrimEnd('/')));
        return "pgwarden-lab-" + Convert.ToHexStringLower(hash)[..8];
    }
}
