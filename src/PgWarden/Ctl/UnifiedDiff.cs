using System.Text;

namespace PgWarden.Ctl;

/// <summary>Python difflib.unified_diff of two texts by lines (what patronictl edit-config shows), 3 lines of context.</summary>
public static class UnifiedDiff
{
    public static string Render(string before, string after, int context = 3)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var a = SplitLines(before);
        var b = SplitLines(after);
        var ops = EditScript(a, b);
        if (ops.All(o => o.Kind == ' ')) return "";

        var sb = new StringBuilder("--- \n+++ \n");
        // Group edits with up to 2*context unchanged lines between them into one hunk.
        var i = 0;
        while (i < ops.Count)
        {
            while (i < ops.Count && ops[i].Kind == ' ') i++;
            if (i >= ops.Count) break;
            var start = Math.Max(0, i - context);
            var end = i;
            while (true)
            {
                while (end < ops.Count && ops[end].Kind != ' ') end++;
                var next = end;
                while (next < ops.Count && ops[next].Kind == ' ') next++;
                if (next < ops.Count && next - end <= 2 * context) { end = next; continue; }
                end = Math.Min(ops.Count, end + context);
                break;
            }
            var hunk = ops.GetRange(start, end - start);
            var aStart = hunk[0].AIndex;
            var bStart = hunk[0].BIndex;
            var aLen = hunk.Count(o => o.Kind != '+');
            var bLen = hunk.Count(o => o.Kind != '-');
            sb.Append("@@ -").Append(Range(aStart, aLen)).Append(" +").Append(Range(bStart, bLen)).Append(" @@\n");
            foreach (var o in hunk) sb.Append(o.Kind).Append(o.Line).Append('\n');
            i = end;
        }
        return sb.ToString();
    }

    private static string Range(int start, int length)
    {
        var beginning = start + 1;
        if (length == 1) return beginning.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (length == 0) beginning--;
        return $"{beginning},{length}";
    }

    private static string[] SplitLines(string text) =>
        text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');

    private sealed record Op(char Kind, string Line, int AIndex, int BIndex);

    /// <summary>Longest-common-subsequence edit script: ' ' kept, '-' removed, '+' added.</summary>
    private static List<Op> EditScript(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var x = a.Length - 1; x >= 0; x--)
            for (var y = b.Length - 1; y >= 0; y--)
                lcs[x, y] = a[x] == b[y] ? lcs[x + 1, y + 1] + 1 : Math.Max(lcs[x + 1, y], lcs[x, y + 1]);
        var ops = new List<Op>();
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (i < a.Length && j < b.Length && a[i] == b[j]) { ops.Add(new Op(' ', a[i], i, j)); i++; j++; }
            else if (j < b.Length && (i >= a.Length || lcs[i, j + 1] > lcs[i + 1, j])) { ops.Add(new Op('+', b[j], i, j)); j++; }
            else { ops.Add(new Op('-', a[i], i, j)); i++; }
        }
        return ops;
    }
}
