using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace TypedTrt.Generators.Json;

/// <summary>
/// A strict JSON parser that keeps positions: RFC 8259 plus <c>//</c> and <c>/* */</c> comments and a leading BOM, as the
/// runtime's System.Text.Json reader is configured; duplicate property names and nesting deeper than 64 are errors,
/// as there.
/// </summary>
internal static class JsonParser
{
    /// <summary>Parses a whole document (comments <c>//</c> and <c>/* */</c> are skipped, as the runtime reader does).</summary>
    /// <exception cref="JsonSyntaxException">The text is not valid JSON.</exception>
    public static JsonNode Parse(string text)
    {
        var p = new ParserState(text);
        p.SkipTrivia();
        if (p.Pos < text.Length && text[p.Pos] == '\uFEFF')
        {
            p.Pos++;
            p.SkipTrivia();
        }

        var root = p.ReadValue(0);
        p.SkipTrivia();
        if (p.Pos < text.Length)
            throw new JsonSyntaxException(p.Pos, "unexpected text after the end of the document.");
        return root;
    }

    private sealed class ParserState
    {
        private const int MaxDepth = 64;
        private readonly string _s;

        public ParserState(string s) => _s = s;

        public int Pos { get; set; }

        public JsonNode ReadValue(int depth)
        {
            if (Pos >= _s.Length)
                throw new JsonSyntaxException(Pos, "unexpected end of the document; a value was expected.");
            char c = _s[Pos];
            switch (c)
            {
                case '{':
                    return ReadObject(depth);
                case '[':
                    return ReadArray(depth);
                case '"':
                    {
                        int start = Pos;
                        string value = ReadString();
                        return new JsonNode(JsonKind.String, start, Pos - start) { Text = value };
                    }

                case 't':
                    return ReadLiteral("true", JsonKind.True);
                case 'f':
                    return ReadLiteral("false", JsonKind.False);
                case 'n':
                    return ReadLiteral("null", JsonKind.Null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                        return ReadNumber();
                    throw new JsonSyntaxException(Pos, $"unexpected character '{Printable(c)}'; a value was expected.");
            }
        }

        private JsonNode ReadObject(int depth)
        {
            if (depth >= MaxDepth)
                throw new JsonSyntaxException(Pos, "the document is nested deeper than 64 levels.");
            var node = new JsonNode(JsonKind.Object, Pos, 0) { Properties = [] };
            Pos++;
            SkipTrivia();
            if (Peek() == '}')
            {
                Pos++;
                node.Length = Pos - node.Start;
                return node;
            }

            while (true)
            {
                SkipTrivia();
                if (Peek() != '"')
                    throw new JsonSyntaxException(Pos, Pos >= _s.Length ? "unexpected end of the document inside an object." : "a property name in double quotes was expected.");
                int keyStart = Pos;
                string key = ReadString();
                foreach (var existing in node.Properties)
                {
                    if (existing.Key == key)
                        throw new JsonSyntaxException(keyStart, $"property '{key}' appears twice.");
                }

                SkipTrivia();
                if (Peek() != ':')
                    throw new JsonSyntaxException(Pos, "':' was expected after a property name.");
                Pos++;
                SkipTrivia();
                node.Properties.Add(new KeyValuePair<string, JsonNode>(key, ReadValue(depth + 1)));
                SkipTrivia();
                char c = Peek();
                Pos++;
                if (c == '}')
                    break;
                if (c != ',')
                    throw new JsonSyntaxException(Pos - 1, Pos > _s.Length ? "unexpected end of the document inside an object." : "',' or '}' was expected.");
            }

            node.Length = Pos - node.Start;
            return node;
        }

        private JsonNode ReadArray(int depth)
        {
            if (depth >= MaxDepth)
                throw new JsonSyntaxException(Pos, "the document is nested deeper than 64 levels.");
            var node = new JsonNode(JsonKind.Array, Pos, 0) { Items = [] };
            Pos++;
            SkipTrivia();
            if (Peek() == ']')
            {
                Pos++;
                node.Length = Pos - node.Start;
                return node;
            }

            while (true)
            {
                SkipTrivia();
                node.Items.Add(ReadValue(depth + 1));
                SkipTrivia();
                char c = Peek();
                Pos++;
                if (c == ']')
                    break;
                if (c != ',')
                    throw new JsonSyntaxException(Pos - 1, Pos > _s.Length ? "unexpected end of the document inside an array." : "',' or ']' was expected.");
            }

            node.Length = Pos - node.Start;
            return node;
        }

        private JsonNode ReadLiteral(string literal, JsonKind kind)
        {
            if (string.CompareOrdinal(_s, Pos, literal, 0, literal.Length) != 0)
                throw new JsonSyntaxException(Pos, $"unexpected character '{Printable(_s[Pos])}'; a value was expected.");
            var node = new JsonNode(kind, Pos, literal.Length);
            Pos += literal.Length;
            return node;
        }

        private JsonNode ReadNumber()
        {
            int start = Pos;
            if (Peek() == '-')
                Pos++;
            if (!IsDigit(Peek()))
                throw new JsonSyntaxException(Pos, "a digit was expected.");
            if (Peek() == '0')
            {
                Pos++;
            }
            else
            {
                while (IsDigit(Peek()))
                    Pos++;
            }

            if (Peek() == '.')
            {
                Pos++;
                if (!IsDigit(Peek()))
                    throw new JsonSyntaxException(Pos, "a digit was expected after the decimal point.");
                while (IsDigit(Peek()))
                    Pos++;
            }

            if (Peek() is 'e' or 'E')
            {
                Pos++;
                if (Peek() is '+' or '-')
                    Pos++;
                if (!IsDigit(Peek()))
                    throw new JsonSyntaxException(Pos, "a digit was expected in the exponent.");
                while (IsDigit(Peek()))
                    Pos++;
            }

            return new JsonNode(JsonKind.Number, start, Pos - start) { Text = _s.Substring(start, Pos - start) };
        }

        private string ReadString()
        {
            int start = Pos;
            Pos++; // opening quote
            StringBuilder? sb = null;
            int runStart = Pos;
            while (true)
            {
                if (Pos >= _s.Length)
                    throw new JsonSyntaxException(start, "the string is not terminated.");
                char c = _s[Pos];
                if (c == '"')
                {
                    string result = sb is null
                        ? _s.Substring(runStart, Pos - runStart)
                        : sb.Append(_s, runStart, Pos - runStart).ToString();
                    Pos++;
                    return result;
                }

                if (c < ' ')
                    throw new JsonSyntaxException(Pos, "a control character must be escaped inside a string.");
                if (c != '\\')
                {
                    Pos++;
                    continue;
                }

                sb ??= new StringBuilder();
                sb.Append(_s, runStart, Pos - runStart);
                Pos++;
                char e = Peek();
                Pos++;
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (Pos + 4 > _s.Length || !int.TryParse(_s.Substring(Pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                            throw new JsonSyntaxException(Pos - 2, "'\\u' must be followed by four hex digits.");
                        Pos += 4;
                        if (code is >= 0xD800 and <= 0xDBFF)
                        {
                            // A high surrogate must be followed by an escaped low one (System.Text.Json refuses anything else).
                            if (Pos + 6 > _s.Length || _s[Pos] != '\\' || _s[Pos + 1] != 'u'
                                || !int.TryParse(_s.Substring(Pos + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int low)
                                || low is < 0xDC00 or > 0xDFFF)
                                throw new JsonSyntaxException(Pos - 6, "'\\u' escapes an unpaired surrogate.");
                            sb.Append((char)code).Append((char)low);
                            Pos += 6;
                        }
                        else if (code is >= 0xDC00 and <= 0xDFFF)
                        {
                            throw new JsonSyntaxException(Pos - 6, "'\\u' escapes an unpaired surrogate.");
                        }
                        else
                        {
                            sb.Append((char)code);
                        }

                        break;
                    default:
                        throw new JsonSyntaxException(Pos - 2, "invalid escape sequence in a string.");
                }

                runStart = Pos;
            }
        }

        public void SkipTrivia()
        {
            while (Pos < _s.Length)
            {
                char c = _s[Pos];
                if (c is ' ' or '\t' or '\r' or '\n')
                {
                    Pos++;
                }
                else if (c == '/' && Pos + 1 < _s.Length && _s[Pos + 1] == '/')
                {
                    while (Pos < _s.Length && _s[Pos] != '\n')
                        Pos++;
                }
                else if (c == '/' && Pos + 1 < _s.Length && _s[Pos + 1] == '*')
                {
                    int end = _s.IndexOf("*/", Pos + 2, StringComparison.Ordinal);
                    if (end < 0)
                        throw new JsonSyntaxException(Pos, "the comment is not terminated.");
                    Pos = end + 2;
                }
                else
                {
                    break;
                }
            }
        }

        private char Peek() => Pos < _s.Length ? _s[Pos] : '\0';

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        private static string Printable(char c) => c < ' ' ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString();
    }
}
