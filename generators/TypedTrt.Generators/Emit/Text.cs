using System.Collections.Generic;
using System.Globalization;
using System.Text;
using TypedTrt.Generators.Model;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// Escaping and the short per-tensor texts. Anything from a manifest (tensor, dim and file names) passes through
        /// here: C#'s line terminators (\n, \r, U+0085, U+2028, U+2029), other control and format characters and lone
        /// surrogates are written as <c>\uXXXX</c> text, so no name can end a comment or a literal.
        /// </summary>
        internal static class Text
        {
            /// <summary>Text for a <c>//</c> comment.</summary>
            public static string Comment(string s) => Escape(s, xml: false);

            /// <summary>Text for an XML doc comment (also escapes &amp;, &lt; and &gt;).</summary>
            public static string Xml(string s) => Escape(s, xml: true);

            /// <summary>A regular C# string literal; every character outside printable ASCII is a <c>\uXXXX</c> escape.</summary>
            public static string Literal(string s)
            {
                var sb = new StringBuilder(s.Length + 2).Append('"');
                foreach (char c in s)
                {
                    if (c == '"' || c == '\\')
                        sb.Append('\\').Append(c);
                    else if (c is >= ' ' and <= '~')
                        sb.Append(c);
                    else
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                }

                return sb.Append('"').ToString();
            }

            /// <summary>
            /// A single-line raw UTF-8 literal (<c>"""…"""u8</c>) of minified JSON: no escaping, no newline inside (the
            /// minifier escaped C#'s line terminators), delimited by one more quote than the longest run inside.
            /// </summary>
            public static string RawUtf8(string json)
            {
                int run = 0, longest = 0;
                foreach (char c in json)
                {
                    run = c == '"' ? run + 1 : 0;
                    if (run > longest)
                        longest = run;
                }

                string quotes = new('"', System.Math.Max(3, longest + 1));
                return quotes + json + quotes + "u8";
            }

            private static string Escape(string s, bool xml)
            {
                StringBuilder? sb = null;
                for (int i = 0; i < s.Length; i++)
                {
                    char c = s[i];
                    string? replacement = null;
                    if (xml && c == '&')
                        replacement = "&amp;";
                    else if (xml && c == '<')
                        replacement = "&lt;";
                    else if (xml && c == '>')
                        replacement = "&gt;";
                    else if (c < ' ' || c is '\u007f' or '\u0085' or '\u2028' or '\u2029' || char.IsSurrogate(c) && !IsPair(s, i) || char.GetUnicodeCategory(c) == UnicodeCategory.Format || c is '\uFFFE' or '\uFFFF')
                        replacement = "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture);
                    if (replacement is null)
                    {
                        sb?.Append(c);
                        continue;
                    }

                    sb ??= new StringBuilder(s, 0, i, s.Length + 16);
                    sb.Append(replacement);
                }

                return sb?.ToString() ?? s;
            }

            private static bool IsPair(string s, int i) =>
                char.IsHighSurrogate(s[i]) ? i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) : i > 0 && char.IsHighSurrogate(s[i - 1]);

            /// <summary><c>[batch, 3, 224, 224]</c>: dynamic dims as their name or <c>?</c>.</summary>
            public static string Shape(TensorModel t)
            {
                var parts = new string[t.Shape.Count];
                for (int d = 0; d < parts.Length; d++)
                    parts[d] = t.Shape[d] >= 0 ? Long(t.Shape[d]) : t.DimNames[d].Length > 0 ? Xml(t.DimNames[d]) : "?";
                return "[" + string.Join(", ", parts) + "]";
            }

            /// <summary>
            /// What is specific to one tensor: <c>Input 'images': float [batch, 3, 224, 224]; batch 1..32.</c> in full on its
            /// descriptor; the short form (no mode) on its input or output property; other members only point at those.
            /// </summary>
            public static string Facts(TensorModel t, bool full = false)
            {
                var sb = new StringBuilder();
                if (full)
                    sb.Append(t.IsInput ? "Input '" : "Output '").Append(Xml(t.Name)).Append("': ");
                else
                    sb.Append("<c>").Append(Xml(t.Name)).Append("</c> ");
                sb.Append(Xml(t.DType)).Append(' ').Append(Shape(t));
                if (t.IsRaw)
                    sb.Append(", raw bytes");
                if (t.Format is { } f && f != "linear")
                    sb.Append(", format ").Append(f);
                if (t.Min.Count > 0)
                {
                    var parts = new List<string>();
                    for (int d = 0; d < t.Shape.Count; d++)
                    {
                        if (t.Shape[d] >= 0)
                            continue;
                        string name = t.DimNames[d].Length > 0 ? Xml(t.DimNames[d]) : "dim " + d.ToString(CultureInfo.InvariantCulture);
                        parts.Add($"{name} {Long(t.Min[d])}..{Long(t.Max[d])}");
                    }

                    sb.Append("; ").Append(string.Join(", ", parts));
                }
                else if (t.IsInput && t.IsDynamic)
                {
                    sb.Append("; no profile range (TTRT0010)");
                }

                if (t.AfterRunDims.Count > 0)
                {
                    sb.Append("; shape known after the run (")
                      .Append(t.AfterRunDims.Count == 1 ? "dimension " : "dimensions ")
                      .Append(string.Join(", ", System.Linq.Enumerable.Select(t.AfterRunDims, d => d.ToString(CultureInfo.InvariantCulture))))
                      .Append(')');
                }

                return sb.Append('.').ToString();
            }

            /// <summary>The C# element type with the file's <c>sys</c> alias.</summary>
            public static string Clr(TensorModel t) =>
                t.ClrType!.StartsWith("global::System.", System.StringComparison.Ordinal) ? "sys." + t.ClrType.Substring(15) : t.ClrType;

            public static string Long(long v) => v.ToString(CultureInfo.InvariantCulture);

            public static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

            public static string Count(int n, string noun) => Int(n) + " " + noun + (n == 1 ? "" : "s");

            /// <summary><c>ttrt.TensorShape(...)</c> and one <c>ttrt.TensorDimRange(...)</c> per ranged dynamic dim (read by the TTRT1xxx analyzer).</summary>
            public static string ShapeAttributes(TensorModel t)
            {
                var sb = new StringBuilder("ttrt.TensorShape(");
                for (int d = 0; d < t.Shape.Count; d++)
                    sb.Append(d == 0 ? "" : ", ").Append(Long(t.Shape[d]));
                sb.Append(')');
                if (t.Min.Count > 0)
                {
                    for (int d = 0; d < t.Shape.Count; d++)
                    {
                        if (t.Shape[d] < 0)
                            sb.Append(", ttrt.TensorDimRange(").Append(Int(d)).Append(", ").Append(Long(t.Min[d])).Append(", ").Append(Long(t.Max[d])).Append(')');
                    }
                }

                return sb.ToString();
            }
        }
    }
}
