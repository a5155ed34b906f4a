namespace PgWarden.Postgres;

/// <summary>The process state letter from /proc/&lt;pid&gt;/stat.</summary>
public static class ProcStat
{
    /// <summary>
    /// The state field that follows "(comm)". comm may itself contain spaces and parentheses, so the state is
    /// found after the LAST ')'. Null when the text is not a stat line.
    /// </summary>
    public static char? ParseState(string statLine)
    {
        ArgumentNullException.ThrowIfNull(statLine);
        var close = statLine.LastIndexOf(')');
        if (close < 0 || close + 2 >= statLine.Length || statLine[close + 1] != ' ') return null;
        return statLine[close + 2];
    }

    /// <summary>The parent pid (the field after the state).</summary>
    public static int? ParseParentPid(string statLine)
    {
        ArgumentNullException.ThrowIfNull(statLine);
        var close = statLine.LastIndexOf(')');
        if (close < 0) return null;
        var fields = statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && int.TryParse(fields[1], out var ppid) ? ppid : null;
    }

    /// <summary>Running, sleeping or in disk wait: not stopped (T, t), not a zombie (Z) and not dead (X).</summary>
    public static bool IsRunnableState(char state) => state is not ('T' or 't' or 'Z' or 'X' or 'x');

    /// <summary>The state of a live pid, or null when the process does not exist.</summary>
    public static char? ReadState(int pid)
    {
        try { return ParseState(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Pids whose parent is the given pid (used to finish off a killed postmaster's children).</summary>
    public static IReadOnlyList<int> ChildrenOf(int parentPid)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (ParseParentPid(File.ReadAllText(Path.Combine(dir, "stat"))) == parentPid) result.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return result;
    }
}
