using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// Which members `dsn` and `query` may use, as patronictl's get_all_members picks them: the leader for
/// leader/primary/master/standby-leader, every member but the leader for replica/standby, every member for any.
/// </summary>
public static class MemberSelector
{
    public static readonly string[] Roles = ["leader", "primary", "standby-leader", "replica", "standby", "any", "master"];

    /// <summary>
    /// The candidates in DCS order. member given: that member only (role must be null); neither given: the leader.
    /// Throws ArgumentException naming the bad combination or value.
    /// </summary>
    public static IReadOnlyList<Member> Candidates(ClusterView view, string? role, string? member)
    {
        if (member is not null && role is not null)
            throw new ArgumentException("--role and --member are mutually exclusive options");
        if (role is not null && !Roles.Contains(role))
            throw new ArgumentException($"--role '{role}' is not one of {string.Join(", ", Roles)}");
        if (member is not null) return view.FindMember(member) is { } m ? [m] : [];
        role ??= "leader";
        var leader = view.LeaderMember;
        switch (role)
        {
            case "leader":
                return leader is null ? [] : [leader];
            case "primary" or "master":
                // A standby cluster's leader is a standby leader, not a primary.
                return leader is { Data.Role: not "standby_leader" } ? [leader] : [];
            case "standby-leader":
                return leader is { Data.IsPrimaryRole: false } ? [leader] : [];
            case "replica" or "standby":
                return view.Members.Where(m => m.Name != view.Leader?.Name).ToList();
            default:
                return view.Members;
        }
    }

    /// <summary>
    /// What PostgreSQL itself must say before a query runs there (patronictl checks pg_is_in_recovery for these
    /// roles): true = in recovery, false = not in recovery, null = no check.
    /// </summary>
    public static bool? RequiredRecovery(string? role, string? member) => member is not null ? null : role switch
    {
        "replica" or "standby" or "standby-leader" => true,
        "primary" or "master" => false,
        _ => null,
    };
}
