using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TypedTrt.Manifest;

/// <summary>
/// Reads and writes binding manifests. Output is deterministic: the same manifest always gives byte-identical UTF-8
/// (fixed property order, <c>\n</c> line endings, two-space indent, no BOM, trailing newline). Uses no reflection, so it
/// is trimming- and NativeAOT-safe.
/// </summary>
public static class ManifestSerializer
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Serializes a manifest to UTF-8 JSON bytes.</summary>
    public static byte[] Serialize(BindingManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        using var stream = new MemoryStream();
        Write(manifest, stream);
        return stream.ToArray();
    }

    /// <summary>Serializes a manifest to a JSON string.</summary>
    public static string SerializeToString(BindingManifest manifest) => Encoding.UTF8.GetString(Serialize(manifest));

    /// <summary>Writes a manifest as UTF-8 JSON to a stream.</summary>
    public static void Write(BindingManifest manifest, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(stream);
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("schema", manifest.Schema);
            WriteSource(w, manifest.Source);
            w.WriteStartArray("tensors");
            foreach (var t in manifest.Tensors)
                WriteTensor(w, t);
            w.WriteEndArray();
            w.WriteStartArray("profiles");
            foreach (var p in manifest.Profiles)
            {
                w.WriteStartObject();
                w.WriteStartArray("inputs");
                foreach (var r in p.Inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", r.Name);
                    WriteLongs(w, "min", r.Min);
                    WriteLongs(w, "opt", r.Opt);
                    WriteLongs(w, "max", r.Max);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// Writes a manifest to a file only when its bytes differ from what the file holds (keeps timestamps stable for
    /// incremental builds), atomically and without ever replacing what is not a regular file: see
    /// <see cref="SafeFileWriter.WriteIfChanged"/> for the rules (links written through, devices and FIFOs refused).
    /// </summary>
    /// <returns><see langword="true"/> when the file was written.</returns>
    /// <exception cref="IOException">The target is not a regular file, or writing failed (nothing is left behind).</exception>
    public static bool WriteFileIfChanged(BindingManifest manifest, string path) => SafeFileWriter.WriteIfChanged(path, Serialize(manifest));

    private static void WriteSource(Utf8JsonWriter w, ModelSource s)
    {
        w.WriteStartObject("source");
        w.WriteString("kind", s.Kind == ModelKind.Onnx ? "onnx" : "tensorrt-engine");
        w.WriteString("file", s.FileName);
        w.WriteString("sha256", s.Sha256);
        w.WriteNumber("bytes", s.Bytes);
        if (s.TensorRTVersion is not null)
            w.WriteString("tensorrtVersion", s.TensorRTVersion);
        if (s.Onnx is { } o)
        {
            w.WriteStartObject("onnx");
            w.WriteNumber("irVersion", o.IrVersion);
            w.WriteString("producerName", o.ProducerName);
            w.WriteString("producerVersion", o.ProducerVersion);
            w.WriteStartObject("opsets");
            foreach (var kv in o.Opsets)
                w.WriteNumber(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        if (s.Metadata.Count > 0)
        {
            w.WriteStartObject("metadata");
            foreach (var kv in s.Metadata)
                w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteTensor(Utf8JsonWriter w, TensorBinding t)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteString("mode", t.Mode == TensorMode.Input ? "input" : "output");
        w.WriteString("dtype", t.DTypeName);
        if (!t.IsSupported)
            w.WriteBoolean("supported", false);
        WriteLongs(w, "shape", t.Shape);
        w.WriteStartArray("dimNames");
        foreach (var n in t.DimNames)
            w.WriteStringValue(n);
        w.WriteEndArray();
        if (t.Layout is { } l)
        {
            w.WriteString("format", FormatName(l.Format));
            w.WriteNumber("vectorizedDim", l.VectorizedDim);
            w.WriteNumber("componentsPerElement", l.ComponentsPerElement);
            w.WriteNumber("bytesPerComponent", l.BytesPerComponent);
            w.WriteString("location", l.Location == TensorLocation.Device ? "device" : "host");
            w.WriteBoolean("isShapeTensor", l.IsShapeTensor);
        }

        w.WriteEndObject();
    }

    private static void WriteLongs(Utf8JsonWriter w, string name, IReadOnlyList<long> values)
    {
        // Shapes stay on one line: readable and diff-friendly.
        w.WritePropertyName(name);
        w.WriteRawValue(TensorBinding.FormatShape(values), skipInputValidation: true);
    }

    private static readonly string[] FormatNames =
        ["linear", "chw2", "hwc8", "chw4", "chw16", "chw32", "dhwc8", "cdhw32", "hwc", "dla_linear", "dla_hwc4", "hwc16", "dhwc"];

    /// <summary>The manifest name of a tensor format (<c>linear</c>, <c>chw32</c>, ...).</summary>
    public static string FormatName(TensorFormat format) =>
        (int)format >= 0 && (int)format < FormatNames.Length ? FormatNames[(int)format] : throw new ArgumentOutOfRangeException(nameof(format));

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

    /// <summary>Parses a manifest from UTF-8 JSON.</summary>
    /// <param name="utf8">The JSON.</param>
    /// <param name="filePath">Used in error messages only.</param>
    /// <exception cref="ManifestException">The JSON is malformed, a property is missing or invalid, or the schema is not <c>typedtrt.bindings/v1</c>.</exception>
    public static BindingManifest Deserialize(ReadOnlySpan<byte> utf8, string? filePath = null)
    {
        if (utf8.StartsWith("\xEF\xBB\xBF"u8))
            utf8 = utf8[3..];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new ManifestException($"not valid JSON: {TrimJsonMessage(e.Message)}", filePath, (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1, inner: e);
        }

        using (doc)
        {
            var r = new Reader(filePath);
            return r.ReadManifest(doc.RootElement);
        }
    }

    /// <summary>Parses a manifest from a JSON string.</summary>
    public static BindingManifest Deserialize(string json, string? filePath = null) =>
        Deserialize(Encoding.UTF8.GetBytes(json ?? throw new ArgumentNullException(nameof(json))), filePath);

    /// <summary>Lower-case hex SHA-256 of a file, streamed (never loads the file into memory).</summary>
    public static string ComputeSha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string TrimJsonMessage(string m)
    {
        int i = m.IndexOf(" Path:", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m;
    }

    private sealed class Reader(string? file)
    {
        private ManifestException Error(string path, string message) => new(message, file, jsonPath: path);

        public BindingManifest ReadManifest(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw Error("$", "the manifest must be a JSON object.");
            string schema = String(root, "schema", "$");
            if (schema != BindingManifest.SchemaV1)
            {
                bool newer = schema.StartsWith("typedtrt.bindings/v", StringComparison.Ordinal);
                throw new ManifestException(
                    newer
                        ? $"schema '{schema}' is not supported by this TypedTrt, which reads '{BindingManifest.SchemaV1}'. Update the TypedTrt package, or regenerate the manifest with this version's inspector."
                        : $"schema '{schema}' is not a TypedTrt binding manifest (expected '{BindingManifest.SchemaV1}').",
                    file, jsonPath: "schema")
                { IsUnsupportedSchema = true };
            }

            var source = ReadSource(Object(root, "source", "$"));
            var tensors = new List<TensorBinding>();
            var tensorArray = Array(root, "tensors", "$");
            int i = 0;
            foreach (var e in tensorArray.EnumerateArray())
                tensors.Add(ReadTensor(e, $"tensors[{i++}]", source.Kind));
            var profiles = new List<OptimizationProfile>();
            if (root.TryGetProperty("profiles", out var pa))
            {
                if (pa.ValueKind != JsonValueKind.Array)
                    throw Error("profiles", "must be an array.");
                int pi = 0;
                foreach (var p in pa.EnumerateArray())
                {
                    string path = $"profiles[{pi++}]";
                    var inputs = new List<ProfileShape>();
                    int ii = 0;
                    foreach (var r in Array(Obj(p, path), "inputs", path).EnumerateArray())
                    {
                        string rp = $"{path}.inputs[{ii++}]";
                        Obj(r, rp);
                        inputs.Add(Wrap(rp, () => new ProfileShape(String(r, "name", rp), Longs(r, "min", rp), Longs(r, "opt", rp), Longs(r, "max", rp))));
                    }

                    profiles.Add(Wrap(path, () => new OptimizationProfile(inputs)));
                }
            }

            return Wrap("$", () => new BindingManifest(source, tensors, profiles));
        }

        private ModelSource ReadSource(JsonElement s)
        {
            const string p = "source";
            string kindName = String(s, "kind", p);
            ModelKind kind = kindName switch
            {
                "onnx" => ModelKind.Onnx,
                "tensorrt-engine" => ModelKind.TensorRTEngine,
                _ => throw Error("source.kind", $"'{kindName}' is not a model kind (expected 'onnx' or 'tensorrt-engine')."),
            };
            OnnxModelInfo? onnx = null;
            if (s.TryGetProperty("onnx", out var o))
            {
                Obj(o, "source.onnx");
                var opsets = new List<KeyValuePair<string, long>>();
                if (o.TryGetProperty("opsets", out var ops))
                {
                    foreach (var prop in Obj(ops, "source.onnx.opsets").EnumerateObject())
                        opsets.Add(new(prop.Name, Long(prop.Value, $"source.onnx.opsets.{prop.Name}")));
                }

                onnx = new OnnxModelInfo(Long(o, "irVersion", "source.onnx"), OptString(o, "producerName") ?? "", OptString(o, "producerVersion") ?? "", opsets);
            }

            var metadata = new List<KeyValuePair<string, string>>();
            if (s.TryGetProperty("metadata", out var m))
            {
                foreach (var prop in Obj(m, "source.metadata").EnumerateObject())
                {
                    if (prop.Value.ValueKind != JsonValueKind.String)
                        throw Error($"source.metadata.{prop.Name}", "metadata values must be strings.");
                    metadata.Add(new(prop.Name, prop.Value.GetString()!));
                }
            }

            return Wrap(p, () => new ModelSource(kind, String(s, "file", p), String(s, "sha256", p), Long(s, "bytes", p), OptString(s, "tensorrtVersion"), onnx, metadata));
        }

        private TensorBinding ReadTensor(JsonElement t, string path, ModelKind kind)
        {
            Obj(t, path);
            string modeName = String(t, "mode", path);
            TensorMode mode = modeName switch
            {
                "input" => TensorMode.Input,
                "output" => TensorMode.Output,
                _ => throw Error(path + ".mode", $"'{modeName}' is not a tensor mode (expected 'input' or 'output')."),
            };
            string dtype = String(t, "dtype", path);
            bool known = DataTypes.TryParse(dtype, out _);
            bool supported = !t.TryGetProperty("supported", out var sup) || sup.ValueKind != JsonValueKind.False;
            if (supported && !known)
                throw Error(path + ".dtype", $"'{dtype}' is not a TensorRT data type; an unsupported type must be marked \"supported\": false.");
            if (!supported && known)
                throw Error(path + ".supported", $"'{dtype}' is a TensorRT data type but is marked unsupported.");
            long[] shape = Longs(t, "shape", path);
            string[]? dimNames = null;
            if (t.TryGetProperty("dimNames", out var dn))
            {
                if (dn.ValueKind != JsonValueKind.Array)
                    throw Error(path + ".dimNames", "must be an array of strings.");
                dimNames = dn.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String
                    ? e.GetString()!
                    : throw Error($"{path}.dimNames[{i}]", "must be a string.")).ToArray();
            }

            EngineTensorLayout? layout = null;
            if (t.TryGetProperty("format", out var fmt))
            {
                string fname = fmt.ValueKind == JsonValueKind.String ? fmt.GetString()! : throw Error(path + ".format", "must be a string.");
                int fi = System.Array.IndexOf(FormatNames, fname);
                if (fi < 0)
                    throw Error(path + ".format", $"'{fname}' is not a TensorRT tensor format.");
                string loc = OptString(t, "location") ?? "device";
                layout = Wrap(path, () => new EngineTensorLayout(
                    (TensorFormat)fi,
                    (int)(OptLong(t, "vectorizedDim", path) ?? -1),
                    (int)(OptLong(t, "componentsPerElement", path) ?? 1),
                    (int)(OptLong(t, "bytesPerComponent", path) ?? 0),
                    loc switch
                    {
                        "device" => TensorLocation.Device,
                        "host" => TensorLocation.Host,
                        _ => throw Error(path + ".location", $"'{loc}' is not a location (expected 'device' or 'host')."),
                    },
                    t.TryGetProperty("isShapeTensor", out var ist) && ist.ValueKind == JsonValueKind.True));
            }
            else if (kind == ModelKind.TensorRTEngine && t.TryGetProperty("location", out _))
            {
                throw Error(path, "engine layout properties need 'format'.");
            }

            return Wrap(path, () => new TensorBinding(String(t, "name", path), mode, dtype, shape, dimNames, layout));
        }

        private T Wrap<T>(string path, Func<T> create)
        {
            try
            {
                return create();
            }
            catch (ArgumentException e)
            {
                string msg = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
                throw Error(path, msg);
            }
        }

        private JsonElement Obj(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Object ? e : throw Error(path, $"must be an object, found {Describe(e)}.");

        private JsonElement Object(JsonElement parent, string name, string path) =>
            Obj(Required(parent, name, path), Join(path, name));

        private JsonElement Array(JsonElement parent, string name, string path)
        {
            var e = Required(parent, name, path);
            return e.ValueKind == JsonValueKind.Array ? e : throw Error(Join(path, name), $"must be an array, found {Describe(e)}.");
        }

        private JsonElement Required(JsonElement parent, string name, string path) =>
            parent.TryGetProperty(name, out var e) ? e : throw Error(path, $"required property '{name}' is missing.");

        private string String(JsonElement parent, string name, string path)
        {
            var e = Required(parent, name, path);
            return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error(Join(path, name), $"must be a string, found {Describe(e)}.");
        }

        private static string? OptString(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

        private long Long(JsonElement parent, string name, string path) => Long(Required(parent, name, path), Join(path, name));

        private long? OptLong(JsonElement parent, string name, string path) =>
            parent.TryGetProperty(name, out var e) ? Long(e, Join(path, name)) : null;

        private long Long(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : throw Error(path, $"must be an integer, found {Describe(e)}.");

        private long[] Longs(JsonElement parent, string name, string path)
        {
            var e = Required(parent, name, path);
            string p = Join(path, name);
            if (e.ValueKind != JsonValueKind.Array)
                throw Error(p, $"must be an array of integers, found {Describe(e)}.");
            return e.EnumerateArray().Select((x, i) => Long(x, $"{p}[{i}]")).ToArray();
        }

        private static string Join(string path, string name) => path == "$" ? name : $"{path}.{name}";

        private static string Describe(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{e.GetString()}\"",
            JsonValueKind.Number => $"the number {e.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => $"{e.GetRawText()}",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            _ => "an object",
        };
    }
}
