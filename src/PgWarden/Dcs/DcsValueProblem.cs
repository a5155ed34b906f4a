namespace PgWarden.Dcs;

/// <summary>
/// A DCS key whose value cannot be read the way Patroni writes it (hand-written garbage, a foreign tool): the codec
/// reads such values leniently (as empty) and reports them here so the agent can log them.
/// </summary>
/// <param name="Key">The key relative to the cluster's prefix: "leader", "config", "members/node1", ...</param>
/// <param name="RawValue">The whole bad value (compared to log each distinct bad value once).</param>
/// <param name="Problem">What is wrong and what is expected.</param>
public sealed record DcsValueProblem(string Key, string RawValue, string Problem)
{
    /// <summary>The start of the bad value, one line, for a log message.</summary>
    public string Excerpt
    {
        get
        {
            // Control characters (binary garbage) are shown escaped: a log line must stay one printable line.
            var oneLine = string.Concat(RawValue.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
            return oneLine.Length <= 60 ? oneLine : oneLine[..60] + "...";
        }
    }
}
