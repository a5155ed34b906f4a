namespace PgWarden.Config;

/// <summary>
/// PyYAML's Emitter.analyze_scalar: which styles can carry a string unchanged. It decides between plain, 'single'
/// and "double" quoting, so our YAML output quotes exactly the strings patronictl quotes.
/// </summary>
internal readonly record struct ScalarAnalysis(bool Empty, bool Multiline, bool AllowBlockPlain, bool AllowSingleQuoted)
{
    private const string Whitespace = "\0 \t\r\n\x85\u2028\u2029";
    private const string LineBreaks = "\n\x85\u2028\u2029";

    public static ScalarAnalysis Of(string s)
    {
        if (s.Length == 0) return new ScalarAnalysis(Empty: true, Multiline: false, AllowBlockPlain: true, AllowSingleQuoted: true);
        bool blockIndicators = false, lineBreaks = false, special = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
        bool breakSpace = false, spaceBreak = false, previousSpace = false, previousBreak = false;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) blockIndicators = true;
        var precededByWhitespace = true;
        var followedByWhitespace = s.Length == 1 || Whitespace.Contains(s[1], StringComparison.Ordinal);
        for (var index = 0; index < s.Length; index++)
        {
            var ch = s[index];
            if (index == 0)
            {
                if ("#,[]{}&*!|>'\"%@`".Contains(ch, StringComparison.Ordinal)) blockIndicators = true;
                if (ch is '?' or ':' && followedByWhitespace) blockIndicators = true;
                if (ch == '-' && followedByWhitespace) blockIndicators = true;
            }
            else
            {
                if (ch == ':' && followedByWhitespace) blockIndicators = true;
                if (ch == '#' && precededByWhitespace) blockIndicators = true;
            }
            var isBreak = LineBreaks.Contains(ch, StringComparison.Ordinal);
            if (isBreak) lineBreaks = true;
            if (!(ch == '\n' || (ch >= '\x20' && ch <= '\x7E')))
            {
                // allow_unicode=True: printable non-ASCII is written as is; anything else forces double quotes.
                var printableUnicode = (ch == '\x85' || (ch >= '\xA0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD')
                                        || char.IsSurrogate(ch)) && ch != '\uFEFF';
                if (!printableUnicode) special = true;
            }
            if (ch == ' ')
            {
                if (index == 0) leadingSpace = true;
                if (index == s.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (isBreak)
            {
                if (index == 0) leadingBreak = true;
                if (index == s.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = Whitespace.Contains(ch, StringComparison.Ordinal);
            followedByWhitespace = index + 2 >= s.Length || Whitespace.Contains(s[index + 2], StringComparison.Ordinal);
        }
        bool allowBlockPlain = true, allowSingleQuoted = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowBlockPlain = false;
        if (breakSpace) allowBlockPlain = allowSingleQuoted = false;
        if (spaceBreak || special) allowBlockPlain = allowSingleQuoted = false;
        if (lineBreaks) allowBlockPlain = false;
        if (blockIndicators) allowBlockPlain = false;
        return new ScalarAnalysis(Empty: false, Multiline: lineBreaks, allowBlockPlain, allowSingleQuoted);
    }
}
