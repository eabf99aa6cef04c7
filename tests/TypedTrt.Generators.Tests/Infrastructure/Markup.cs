using System.Text;
using System.Text.RegularExpressions;

namespace TypedTrt.Generators.Tests.Infrastructure;

/// <summary>Test markup: <c>{|TTRT1001:text|}</c> marks where a diagnostic is expected; the markers are removed.</summary>
internal static partial class Markup
{
    public static (string Text, List<(string Id, int Start, int Length)> Expected) Parse(string markup)
    {
        var expected = new List<(string, int, int)>();
        var sb = new StringBuilder();
        int pos = 0;
        foreach (Match m in MarkerRegex().Matches(markup))
        {
            sb.Append(markup, pos, m.Index - pos);
            int start = sb.Length;
            sb.Append(m.Groups["text"].Value);
            expected.Add((m.Groups["id"].Value, start, m.Groups["text"].Value.Length));
            pos = m.Index + m.Length;
        }

        sb.Append(markup, pos, markup.Length - pos);
        return (sb.ToString(), expected);
    }

    [GeneratedRegex(@"\{\|(?<id>TTRT\d{4}):(?<text>.*?)\|\}", RegexOptions.Singleline)]
    private static partial Regex MarkerRegex();
}
