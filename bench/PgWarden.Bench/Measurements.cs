namespace PgWarden.Bench;

/// <summary>A figure for one agent: a value, or why there is none.</summary>
public sealed record Measured(double? Value, string? Note = null)
{
    public static Measured Missing(string why) => new(null, why);
}

/// <summary>What one agent's run produced: the figures of the table, the details behind them, the machine's load.</summary>
public sealed class Measurements(AgentKind agent)
{
    public AgentKind Agent => agent;
    public Dictionary<string, Measured> Figures { get; } = [];
    public Dictionary<string, object?> Details { get; } = [];
    public List<double> LoadSamples { get; } = [];
    public double Seconds { get; set; }

    public void Set(string id, double value, string? note = null) => Figures[id] = new Measured(value, note);

    public void Missing(string id, string why)
    {
        if (!Figures.ContainsKey(id)) Figures[id] = Measured.Missing(why);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToList();
        return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
