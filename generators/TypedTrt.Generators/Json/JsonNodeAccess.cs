using System.Collections.Generic;
using TypedTrt.Manifest.Shared;

namespace TypedTrt.Generators.Json;

/// <summary>The generator's <see cref="JsonNode"/> tree as the shared manifest reader sees it.</summary>
internal sealed class JsonNodeAccess : JsonAccess<JsonNode>
{
    public static readonly JsonNodeAccess Instance = new();

    public override ManifestJsonKind Kind(JsonNode node) => node.Kind switch
    {
        JsonKind.Object => ManifestJsonKind.Object,
        JsonKind.Array => ManifestJsonKind.Array,
        JsonKind.String => ManifestJsonKind.String,
        JsonKind.Number => ManifestJsonKind.Number,
        JsonKind.True => ManifestJsonKind.True,
        JsonKind.False => ManifestJsonKind.False,
        _ => ManifestJsonKind.Null,
    };

    public override bool TryGetProperty(JsonNode obj, string name, out JsonNode value) => obj.TryGetProperty(name, out value);

    public override IEnumerable<KeyValuePair<string, JsonNode>> Properties(JsonNode obj) => obj.Properties ?? [];

    public override IEnumerable<JsonNode> Items(JsonNode array) => array.Items ?? [];

    public override string? GetString(JsonNode node) => node.Text;

    public override bool TryGetInt64(JsonNode node, out long value) => node.TryGetInt64(out value);

    public override string RawNumber(JsonNode node) => node.Text ?? "";
}
