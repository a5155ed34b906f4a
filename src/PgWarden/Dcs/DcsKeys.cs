using System.Text.RegularExpressions;

namespace PgWarden.Dcs;

/// <summary>
/// The key paths of one cluster (compat §1.1): base = "/" + namespace + "/" + scope with runs of '/' collapsed,
/// every key below it. namespace "service", "/service" and "/service/" give the same base.
/// </summary>
public sealed partial class DcsKeys
{
    public const string LeaderKey = "leader";
    public const string MembersDir = "members/";
    public const string ConfigKey = "config";
    public const string InitializeKey = "initialize";
    public const string StatusKey = "status";
    public const string LegacyOptimeKey = "optime/leader";
    public const string FailoverKey = "failover";
    public const string SyncKey = "sync";
    public const string HistoryKey = "history";
    public const string FailsafeKey = "failsafe";

    public DcsKeys(string @namespace, string scope)
    {
        if (string.IsNullOrWhiteSpace(scope)) throw new ArgumentException("DCS scope (the cluster name) must not be empty", nameof(scope));
        Base = Slashes().Replace("/" + @namespace + "/" + scope, "/").TrimEnd('/');
    }

    /// <summary>"/service/batman".</summary>
    public string Base { get; }

    /// <summary>"/service/batman/": every key of the cluster starts with it.</summary>
    public string Prefix => Base + "/";

    public string Leader => Key(LeaderKey);
    public string Config => Key(ConfigKey);
    public string Initialize => Key(InitializeKey);
    public string Status => Key(StatusKey);
    public string LegacyOptime => Key(LegacyOptimeKey);
    public string Failover => Key(FailoverKey);
    public string Sync => Key(SyncKey);
    public string History => Key(HistoryKey);
    public string Failsafe => Key(FailsafeKey);
    public string Member(string name) => Key(MembersDir + name);

    public string Key(string relative) => Prefix + relative;

    /// <summary>The path below the base ("members/node1"), or null for a key outside this cluster.</summary>
    public string? Relative(string fullKey) =>
        fullKey.StartsWith(Prefix, StringComparison.Ordinal) ? fullKey[Prefix.Length..] : null;

    /// <summary>The member name when relative is exactly "members/&lt;name&gt;" (one slash), else null.</summary>
    public static string? MemberName(string relative)
    {
        if (!relative.StartsWith(MembersDir, StringComparison.Ordinal)) return null;
        var name = relative[MembersDir.Length..];
        return name.Length == 0 || name.Contains('/') ? null : name;
    }

    [GeneratedRegex("/+")]
    private static partial Regex Slashes();
}
