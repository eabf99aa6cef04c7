using System.Globalization;
using System.Text;

namespace TypedTrt.Generators.Json;

/// <summary>
/// Removes insignificant whitespace, comments and a BOM from valid JSON, and escapes the characters C# treats as line
/// breaks (U+0085, U+2028, U+2029; JSON allows them raw in strings), so the result fits a single-line raw string
/// literal. The manifest it describes is unchanged (an all-empty <c>dimNames</c>, the default, is left out).
/// </summary>
internal static class JsonMinifier
{
    /// <summary>Minifies <paramref name="json"/>, which must already have parsed.</summary>
    public static string Minify(string json)
    {
        var sb = new StringBuilder(json.Length);
        int i = 0;
        while (i < json.Length)
        {
            char c = json[i];
            if (c == '"')
            {
                sb.Append(c);
                i++;
                while (i < json.Length)
                {
                    char s = json[i];
                    if (s == '\\')
                    {
                        sb.Append(s).Append(json[i + 1]);
                        i += 2;
                        continue;
                    }

                    i++;
                    if (s == '"')
                    {
                        sb.Append(s);
                        break;
                    }

                    if (s is '\u0085' or '\u2028' or '\u2029')
                        sb.Append("\\u").Append(((int)s).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(s);
                }

                continue;
            }

            if (c == '/' && i + 1 < json.Length && json[i + 1] == '/')
            {
                while (i < json.Length && json[i] != '\n')
                    i++;
                continue;
            }

            if (c == '/' && i + 1 < json.Length && json[i + 1] == '*')
            {
                int end = json.IndexOf("*/", i + 2, System.StringComparison.Ordinal);
                i = end < 0 ? json.Length : end + 2;
                continue;
            }

            if (c is not (' ' or '\t' or '\r' or '\n' or '\uFEFF'))
                sb.Append(c);
            i++;
        }

        // A tensor's all-unnamed dimNames is the default: leave it out (structural only, since quotes inside strings are escaped).
        return EmptyDimNames.Replace(sb.ToString(), "");
    }

    private static readonly System.Text.RegularExpressions.Regex EmptyDimNames =
        new(@",""dimNames"":\[(?:""""(?:,"""")*)?\]", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
}
