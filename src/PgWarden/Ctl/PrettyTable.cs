using System.Text;

namespace PgWarden.Ctl;

/// <summary>
/// The subset of Python's prettytable that patronictl prints: one-space padding, per-column left/right alignment
/// (headers aligned like their column), multi-line cells, FRAME or ALL horizontal rules, and patronictl's trick
/// of writing a title into the top border ("+ Cluster: demo ----+---").
/// </summary>
public sealed class PrettyTable(IReadOnlyList<string> columns, string? title = null)
{
    private readonly List<string[]> _rows = [];
    private readonly HashSet<string> _rightAligned = new(StringComparer.Ordinal);

    public void AlignRight(string column) => _rightAligned.Add(column);

    public void AddRow(IEnumerable<string> cells) => _rows.Add([.. cells]);

    public override string ToString()
    {
        var cells = _rows.Select(r => r.Select(c => c.Split('\n')).ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Max(c.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Max(l => l.Length)))).ToArray();
        var allRules = _rows.Any(r => r.Any(c => c.Contains('\n', StringComparison.Ordinal)));

        var rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        var sb = new StringBuilder();
        sb.Append(string.IsNullOrEmpty(title) ? rule : TitledRule(rule, title)).Append('\n');
        AppendLine(sb, columns.ToArray(), widths);
        sb.Append(rule).Append('\n');
        foreach (var row in cells)
        {
            var height = row.Max(c => c.Length);
            for (var line = 0; line < height; line++)
                AppendLine(sb, row.Select(c => line < c.Length ? c[line] : "").ToArray(), widths);
            if (allRules) sb.Append(rule).Append('\n');
        }
        if (!allRules || cells.Count == 0) sb.Append(rule).Append('\n');
        return sb.ToString(0, sb.Length - 1);
    }

    private void AppendLine(StringBuilder sb, string[] texts, int[] widths)
    {
        sb.Append('|');
        for (var i = 0; i < texts.Length; i++)
        {
            var right = _rightAligned.Contains(columns[i]);
            sb.Append(' ').Append(right ? texts[i].PadLeft(widths[i]) : texts[i].PadRight(widths[i])).Append(" |");
        }
        sb.Append('\n');
    }

    /// <summary>patronictl: the title replaces the start of the top border, cut to fit.</summary>
    private static string TitledRule(string rule, string title)
    {
        var header = title.Length > rule.Length - 2 ? title[..(rule.Length - 2)] : title;
        return rule[0] + header + rule[(1 + header.Length)..];
    }
}
