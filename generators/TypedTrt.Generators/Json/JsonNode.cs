using System;
using System.Collections.Generic;
using System.Globalization;

namespace TypedTrt.Generators.Json;

/// <summary>
/// A parsed JSON value with its position (character offset and length) in the source text, so that diagnostics can
/// point at the exact value. Only what the manifest schema needs: no streaming, no numbers beyond <see cref="long"/>.
/// </summary>
internal sealed class JsonNode
{
    internal JsonNode(JsonKind kind, int start, int length)
    {
        Kind = kind;
        Start = start;
        Length = length;
    }

    public JsonKind Kind { get; }

    public int Start { get; }

    public int Length { get; internal set; }

    /// <summary>The string value, or the raw text of a number.</summary>
    public string? Text { get; internal set; }

    public List<JsonNode>? Items { get; internal set; }

    public List<KeyValuePair<string, JsonNode>>? Properties { get; internal set; }

    public bool TryGetProperty(string name, out JsonNode value)
    {
        if (Properties is not null)
        {
            foreach (var p in Properties)
            {
                if (string.Equals(p.Key, name, StringComparison.Ordinal))
                {
                    value = p.Value;
                    return true;
                }
            }
        }

        value = null!;
        return false;
    }

    public bool TryGetInt64(out long value) =>
        long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && Kind == JsonKind.Number;

    /// <summary>Parses a whole document (see <see cref="JsonParser"/>).</summary>
    /// <exception cref="JsonSyntaxException">The text is not valid JSON.</exception>
    public static JsonNode Parse(string text) => JsonParser.Parse(text);
}
