using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TypedTrt.Manifest.Shared;

namespace TypedTrt.Manifest;

/// <summary>
/// Reads and writes binding manifests. Output is deterministic: the same manifest always gives byte-identical UTF-8
/// (fixed property order, <c>\n</c> line endings, two-space indent, no BOM, trailing newline). Uses no reflection, so it
/// is trimming- and NativeAOT-safe.
/// </summary>
public static partial class ManifestSerializer
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

    /// <summary>The manifest name of a tensor format (<c>linear</c>, <c>chw32</c>, ...).</summary>
    public static string FormatName(TensorFormat format) =>
        (int)format >= 0 && (int)format < TensorFormatTable.Names.Length ? TensorFormatTable.Names[(int)format] : throw new ArgumentOutOfRangeException(nameof(format));
}
