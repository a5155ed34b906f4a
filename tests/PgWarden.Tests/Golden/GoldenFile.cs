namespace PgWarden.Tests.Golden;

/// <summary>Reads the recorded Patroni 3.0.2 answers copied next to the tests (tests/PgWarden.Tests/Golden).</summary>
public static class GoldenFile
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "PgWarden.Tests", "Golden");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/PgWarden.Tests/Golden not found above " + AppContext.BaseDirectory);
    });

    public static string Read(string file) => File.ReadAllText(Path.Combine(Dir.Value, file));

    /// <summary>The body of the "### title" section (after the headers), without the newline the recorder added.</summary>
    public static string RestBody(string file, string title)
    {
        var raw = Raw(file, "### " + title, ctl: false);
        var bodyStart = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var body = bodyStart < 0 ? "" : raw[(bodyStart + 2)..];
        return body.EndsWith('\n') ? body[..^1] : body;
    }

    /// <summary>The status line of the "### title" section.</summary>
    public static string RestStatusLine(string file, string title) => Raw(file, "### " + title, ctl: false).Split('\n')[0];

    /// <summary>Exactly what "$ command" printed (up to the next "$ " or "### " line).</summary>
    public static string CtlOutput(string file, string command) => Raw(file, "$ " + command, ctl: true);

    private static string Raw(string file, string header, bool ctl)
    {
        var text = Read(file);
        var start = text.StartsWith(header + "\n", StringComparison.Ordinal) ? 0 : text.IndexOf("\n" + header + "\n", StringComparison.Ordinal) + 1;
        if (start < 0 || (start == 0 && !text.StartsWith(header + "\n", StringComparison.Ordinal)))
            throw new ArgumentException($"section '{header}' not found in {file}");
        start += header.Length + 1;
        var end = text.Length;
        var nextRest = text.IndexOf("\n### ", start - 1, StringComparison.Ordinal);
        if (nextRest >= 0) end = Math.Min(end, nextRest + 1);
        if (ctl)
        {
            var nextCmd = text.IndexOf("\n$ ", start - 1, StringComparison.Ordinal);
            if (nextCmd >= 0) end = Math.Min(end, nextCmd + 1);
        }
        return text[start..end];
    }
}
