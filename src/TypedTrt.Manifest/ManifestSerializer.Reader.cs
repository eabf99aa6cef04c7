using System.Text;
using System.Text.Json;
using TypedTrt.Manifest.Shared;

namespace TypedTrt.Manifest;

public static partial class ManifestSerializer
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
        AllowDuplicateProperties = false,
    };

    /// <summary>Reads a manifest file.</summary>
    /// <exception cref="ManifestException">The file is not a valid manifest; the message names the file, line/column or JSON path.</exception>
    public static BindingManifest ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException($"cannot read the manifest: {e.Message}", path, inner: e);
        }

        return Deserialize(bytes, path);
    }

    /// <summary>
    /// Parses a manifest from UTF-8 JSON (generated bindings pass their embedded UTF-8 literal here, so nothing is re-encoded).
    /// Every rule is the one the TypedTrt generator applies at build time (shared source), so a manifest that built parses here.
    /// </summary>
    /// <param name="utf8">The JSON.</param>
    /// <param name="filePath">Used in error messages only.</param>
    /// <exception cref="ManifestException">The JSON is malformed, a property is missing or invalid, a size exceeds what the runtime can allocate, or the schema is not <c>typedtrt.bindings/v1</c>.</exception>
    public static BindingManifest Deserialize(ReadOnlySpan<byte> utf8, string? filePath = null)
    {
        // (A "\xEF\xBB\xBF"u8 literal would be the UTF-8 of U+00EF U+00BB U+00BF, not the BOM's bytes.)
        if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF)
            utf8 = utf8[3..];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new ManifestException($"not valid JSON: {TrimJsonMessage(e.Message)}", filePath, (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1, inner: e);
        }

        using (doc)
        {
            // Like the generator's parser, refuse escapes of unpaired surrogates anywhere (System.Text.Json only notices
            // them when a string is read).
            if (!HasValidStrings(doc.RootElement))
                throw new ManifestException("not valid JSON: a '\\u' escape is an unpaired surrogate.", filePath);
            ManifestData data;
            try
            {
                data = new ManifestReader<JsonElement>(JsonElementAccess.Instance).Read(doc.RootElement);
            }
            catch (ManifestRuleException e)
            {
                throw new ManifestException(e.Reason + ".", filePath, jsonPath: e.JsonPath, inner: e) { IsUnsupportedSchema = e.UnsupportedSchema is not null };
            }

            try
            {
                return Build(data);
            }
            catch (ArgumentException e)
            {
                // The shared rules are a superset of the model's constructor checks; this is a safety net.
                throw new ManifestException(e.Message, filePath, jsonPath: "$", inner: e);
            }
        }
    }

    /// <summary>Parses a manifest from a JSON string.</summary>
    public static BindingManifest Deserialize(string json, string? filePath = null) =>
        Deserialize(Encoding.UTF8.GetBytes(json ?? throw new ArgumentNullException(nameof(json))), filePath);

    private static BindingManifest Build(ManifestData d)
    {
        OnnxModelInfo? onnx = d.Onnx is { } o ? new OnnxModelInfo(o.IrVersion, o.ProducerName, o.ProducerVersion, o.Opsets) : null;
        var source = new ModelSource(d.IsEngine ? ModelKind.TensorRTEngine : ModelKind.Onnx, d.File, d.Sha256, d.Bytes, d.TensorRTVersion, onnx, d.Metadata);
        var tensors = new TensorBinding[d.Tensors.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            TensorData t = d.Tensors[i];
            EngineTensorLayout? layout = t.Layout is { } l
                ? new EngineTensorLayout((TensorFormat)l.FormatIndex, l.VectorizedDim, l.Components, l.BytesPerComponent, l.IsHost ? TensorLocation.Host : TensorLocation.Device, l.IsShapeTensor)
                : null;
            tensors[i] = new TensorBinding(t.Name, t.IsInput ? TensorMode.Input : TensorMode.Output, t.DType, t.Shape, t.DimNames, layout);
        }

        var profiles = d.Profiles.Select(p => new OptimizationProfile(p.Select(r => new ProfileShape(r.Name, r.Min, r.Opt, r.Max)))).ToList();
        return new BindingManifest(source, tensors, profiles);
    }

    private static bool HasValidStrings(JsonElement e)
    {
        try
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    _ = e.GetString();
                    return true;
                case JsonValueKind.Array:
                    foreach (JsonElement item in e.EnumerateArray())
                    {
                        if (!HasValidStrings(item))
                            return false;
                    }

                    return true;
                case JsonValueKind.Object:
                    foreach (JsonProperty p in e.EnumerateObject())
                    {
                        _ = p.Name;
                        if (!HasValidStrings(p.Value))
                            return false;
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string TrimJsonMessage(string m)
    {
        int i = m.IndexOf(" Path:", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m;
    }

    /// <summary>System.Text.Json's view of a document for the shared reader.</summary>
    private sealed class JsonElementAccess : JsonAccess<JsonElement>
    {
        public static readonly JsonElementAccess Instance = new();

        public override ManifestJsonKind Kind(JsonElement node) => node.ValueKind switch
        {
            JsonValueKind.Object => ManifestJsonKind.Object,
            JsonValueKind.Array => ManifestJsonKind.Array,
            JsonValueKind.String => ManifestJsonKind.String,
            JsonValueKind.Number => ManifestJsonKind.Number,
            JsonValueKind.True => ManifestJsonKind.True,
            JsonValueKind.False => ManifestJsonKind.False,
            _ => ManifestJsonKind.Null,
        };

        public override bool TryGetProperty(JsonElement obj, string name, out JsonElement value) => obj.TryGetProperty(name, out value);

        public override IEnumerable<KeyValuePair<string, JsonElement>> Properties(JsonElement obj) =>
            obj.EnumerateObject().Select(static p => new KeyValuePair<string, JsonElement>(p.Name, p.Value));

        public override IEnumerable<JsonElement> Items(JsonElement array) => array.EnumerateArray();

        public override string? GetString(JsonElement node)
        {
            try
            {
                return node.GetString();
            }
            catch (InvalidOperationException)
            {
                return null; // an unpaired surrogate escape
            }
        }

        public override bool TryGetInt64(JsonElement node, out long value) => node.TryGetInt64(out value);

        public override string RawNumber(JsonElement node) => node.GetRawText();
    }
}
