namespace PgWarden.Lab;

/// <summary>
/// The lab's iptables rules: all in one chain of its own (PGWLAB-hash, jumped to from OUTPUT), every rule and the
/// jump tagged `-m comment --comment pgwarden-lab-hash`, so `heal` and `down` remove exactly what this lab added
/// and never touch another lab's, a test's or the host's rules.
/// </summary>
public sealed class LabFirewall(string tag)
{
    public string Chain { get; } = "PGWLAB-" + tag[^8..];

    public void Add(IEnumerable<List<string>> rules)
    {
        if (Iptables("-n", "-L", Chain).Code != 0)
        {
            Must("-N", Chain);
            Must("-I", "OUTPUT", "1", "-m", "comment", "--comment", tag, "-j", Chain);
        }
        foreach (var rule in rules) Must(["-A", Chain, .. rule, "-m", "comment", "--comment", tag, "-j", "DROP"]);
    }

    /// <summary>Removes every rule carrying the tag (wherever it is) and the lab's chain. Returns how many rules went.</summary>
    public int RemoveAll()
    {
        var removed = 0;
        var (_, listing) = Iptables("-S");
        foreach (var line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith("-A ", StringComparison.Ordinal) || !line.Contains(tag, StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts[1] == Chain) { removed++; continue; }
            parts[0] = "-D";
            if (Iptables(parts).Code == 0) removed++;
        }
        if (Iptables("-n", "-L", Chain).Code == 0)
        {
            Must("-F", Chain);
            Must("-X", Chain);
        }
        return removed;
    }

    /// <summary>The rules in force, as `iptables -S` prints them.</summary>
    public IReadOnlyList<string> List()
    {
        var (_, listing) = Iptables("-S");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(tag, StringComparison.Ordinal)).ToList();
    }

    private static (int Code, string Output) Iptables(params string[] args) => OsUsers.Run(false, ["iptables", "-w", .. args]);

    private static void Must(params string[] args)
    {
        var (code, output) = OsUsers.Run(true, ["iptables", "-w", .. args]);
        if (code != 0) throw new InvalidOperationException($"iptables {string.Join(' ', args)} exited {code}: {output.Trim()}");
    }
}
