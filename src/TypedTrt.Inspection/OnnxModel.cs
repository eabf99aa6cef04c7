using System.Globalization;
using Google.Protobuf;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection;

/// <summary>One dimension of an ONNX tensor shape: a fixed size, a named (symbolic) size, or unknown.</summary>
/// <param name="Value">The size, or -1 when the dimension is dynamic. A <c>dim_value</c> below -1 is kept as it is
/// (the model is invalid; the inspector reports it rather than treating it as dynamic).</param>
/// <param name="Name">The symbolic name (<c>dim_param</c>), or <c>""</c>.</param>
public readonly record struct OnnxDim(long Value, string Name)
{
    /// <summary>Whether the size is not fixed.</summary>
    public bool IsDynamic => Value < 0;
}

/// <summary>An ONNX graph input or output as declared in the model (<c>ValueInfoProto</c>).</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="TypeKind">"tensor", "sparse_tensor", "sequence", "map", "optional", "opaque" or "none".</param>
/// <param name="ElemType">ONNX <c>TensorProto.DataType</c> value (0 when not a tensor).</param>
/// <param name="Dims">The shape, or <see langword="null"/> when the model declares no shape (unknown rank).</param>
public sealed record OnnxValueInfo(string Name, string TypeKind, int ElemType, IReadOnlyList<OnnxDim>? Dims);

/// <summary>The IO signature and header facts of an ONNX model, read without its weights.</summary>
public sealed class OnnxModel
{
    internal OnnxModel(long irVersion, string producerName, string producerVersion,
        List<KeyValuePair<string, long>> opsets, List<KeyValuePair<string, string>> metadata,
        List<OnnxValueInfo> graphInputs, List<OnnxValueInfo> outputs, HashSet<string> initializers, long bytesRead)
    {
        IrVersion = irVersion;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        Opsets = opsets;
        Metadata = metadata;
        GraphInputs = graphInputs;
        Inputs = graphInputs.Where(i => !initializers.Contains(i.Name)).ToArray();
        Outputs = outputs;
        InitializerNames = initializers;
        BytesParsed = bytesRead;
    }

    /// <summary><c>ir_version</c>.</summary>
    public long IrVersion { get; }

    /// <summary><c>producer_name</c>.</summary>
    public string ProducerName { get; }

    /// <summary><c>producer_version</c>.</summary>
    public string ProducerVersion { get; }

    /// <summary>Opset versions by domain, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Opsets { get; }

    /// <summary><c>metadata_props</c>, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }

    /// <summary>Every <c>graph.input</c>, initializers included (older exporters list weights as inputs).</summary>
    public IReadOnlyList<OnnxValueInfo> GraphInputs { get; }

    /// <summary>The real inputs: graph inputs that are not initializers.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary><c>graph.output</c>.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Names of the graph's initializers and sparse initializers.</summary>
    public IReadOnlySet<string> InitializerNames { get; }

    /// <summary>How far the parser got in the file (its length for a well-formed model); weights are skipped, not read.</summary>
    public long BytesParsed { get; }

    /// <summary>The TensorRT data type for an ONNX element type, or <see langword="null"/> when TensorRT cannot bind it.</summary>
    public static TensorDataType? ToTensorRT(int onnxElemType) => onnxElemType switch
    {
        1 => TensorDataType.Float,
        2 => TensorDataType.UInt8,
        3 => TensorDataType.Int8,
        6 => TensorDataType.Int32,
        7 => TensorDataType.Int64,
        9 => TensorDataType.Bool,
        10 => TensorDataType.Half,
        16 => TensorDataType.BF16,
        17 => TensorDataType.FP8,
        22 => TensorDataType.Int4,
        23 => TensorDataType.FP4,
        24 => TensorDataType.E8M0,
        _ => null,
    };

    private static readonly string[] OnnxTypeNames =
    [
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool", "float16",
        "double", "uint32", "uint64", "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz",
        "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1", "float8e8m0", "uint2", "int2",
    ];

    /// <summary>The ONNX name of an element type, lower-cased (<c>double</c>, <c>uint16</c>...).</summary>
    public static string OnnxTypeName(int onnxElemType) =>
        onnxElemType >= 0 && onnxElemType < OnnxTypeNames.Length
            ? OnnxTypeNames[onnxElemType]
            : "onnx_type_" + onnxElemType.ToString(CultureInfo.InvariantCulture);

    /// <summary>The manifest dtype name: TensorRT's name when supported, else the ONNX name (marked unsupported).</summary>
    public static string ManifestTypeName(int onnxElemType) =>
        ToTensorRT(onnxElemType) is { } t ? DataTypes.ToManifestName(t) : OnnxTypeName(onnxElemType);
}

/// <summary>
/// Reads the IO signature of an ONNX model by walking the protobuf wire format with Google.Protobuf's
/// <see cref="CodedInputStream"/>: only <c>ModelProto</c>'s header fields, <c>graph.input</c>, <c>graph.output</c> and
/// the <em>names</em> of initializers are decoded; weights, nodes and everything else are skipped by seeking.
/// </summary>
public static class OnnxReader
{
    /// <summary>Size of the window of the file kept in memory (moves inside it cost no I/O).</summary>
    public const int BufferSize = 64 * 1024;

    /// <summary>Reads a model from a seekable stream positioned at its start.</summary>
    /// <exception cref="InvalidProtocolBufferException">The data is truncated or not valid protobuf.</exception>
    /// <exception cref="InvalidDataException">The protobuf is not an ONNX model (no graph, no IR version).</exception>
    public static OnnxModel Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
            throw new ArgumentException("The ONNX reader needs a seekable stream (it skips weights by seeking).", nameof(stream));
        stream.Position = 0;
        using var window = new WindowStream(stream, BufferSize);
        var r = new WireReader(window);
        return new Parser(r).Model();
    }

    private sealed class Parser(WireReader r)
    {
        private long _irVersion = -1;
        private string _producer = "", _producerVersion = "";
        private readonly List<KeyValuePair<string, long>> _opsets = [];
        private readonly List<KeyValuePair<string, string>> _metadata = [];
        private readonly List<OnnxValueInfo> _inputs = [], _outputs = [];
        private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);
        private bool _hasGraph;

        public OnnxModel Model()
        {
            long end = r.Length;
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: _irVersion = r.ReadInt64(tag); break;
                    case 2: _producer = r.ReadString(tag, end); break;
                    case 3: _producerVersion = r.ReadString(tag, end); break;
                    case 7: _hasGraph = true; Graph(r.ReadEnd(tag, end)); break;
                    case 8: Opset(r.ReadEnd(tag, end)); break;
                    case 14: Metadata(r.ReadEnd(tag, end)); break;
                    default: r.Skip(tag, end); break;
                }
            }

            if (!_hasGraph || _irVersion <= 0)
            {
                throw new InvalidDataException(_hasGraph
                    ? "it has a graph but no IR version, so it is not an ONNX model."
                    : "it is valid protobuf but has no ONNX graph (ModelProto.graph), so it is not an ONNX model.");
            }

            return new OnnxModel(_irVersion, _producer, _producerVersion, _opsets, _metadata, _inputs, _outputs, _initializers, r.Position);
        }

        private void Opset(long end)
        {
            string domain = "";
            long version = 0;
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: domain = r.ReadString(tag, end); break;
                    case 2: version = r.ReadInt64(tag); break;
                    default: r.Skip(tag, end); break;
                }
            }

            int existing = _opsets.FindIndex(p => p.Key == domain);
            if (existing >= 0)
                _opsets[existing] = new(domain, version);
            else
                _opsets.Add(new(domain, version));
        }

        private void Metadata(long end)
        {
            string key = "", value = "";
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: key = r.ReadString(tag, end); break;
                    case 2: value = r.ReadString(tag, end); break;
                    default: r.Skip(tag, end); break;
                }
            }

            int existing = _metadata.FindIndex(p => p.Key == key);
            if (existing >= 0)
                _metadata[existing] = new(key, value); // the last value wins, as in onnx's own dict conversion
            else
                _metadata.Add(new(key, value));
        }

        private void Graph(long end)
        {
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 5: TensorName(r.ReadEnd(tag, end)); break;              // initializer
                    case 11: _inputs.Add(ValueInfo(r.ReadEnd(tag, end))); break;  // input
                    case 12: _outputs.Add(ValueInfo(r.ReadEnd(tag, end))); break; // output
                    case 15: SparseName(r.ReadEnd(tag, end)); break;             // sparse_initializer
                    default: r.Skip(tag, end); break;                            // node (1), value_info (13), ...
                }
            }
        }

        /// <summary>TensorProto: only <c>name</c> (8); the data fields are skipped by seeking.</summary>
        private void TensorName(long end)
        {
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                if (WireReader.FieldNumber(tag) == 8)
                    _initializers.Add(r.ReadString(tag, end));
                else
                    r.Skip(tag, end);
            }
        }

        /// <summary>SparseTensorProto: the name is that of <c>values</c> (1).</summary>
        private void SparseName(long end)
        {
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                if (WireReader.FieldNumber(tag) == 1)
                    TensorName(r.ReadEnd(tag, end));
                else
                    r.Skip(tag, end);
            }
        }

        private OnnxValueInfo ValueInfo(long end)
        {
            string name = "";
            var type = new OnnxValueInfo("", "none", 0, null);
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: name = r.ReadString(tag, end); break;
                    case 2: type = Type(r.ReadEnd(tag, end)); break;
                    default: r.Skip(tag, end); break;
                }
            }

            return type with { Name = name };
        }

        private OnnxValueInfo Type(long end)
        {
            var result = new OnnxValueInfo("", "none", 0, null);
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: result = Tensor(r.ReadEnd(tag, end), "tensor"); break;
                    case 8: result = Tensor(r.ReadEnd(tag, end), "sparse_tensor"); break;
                    case 4: result = new("", "sequence", 0, null); r.Skip(tag, end); break;
                    case 5: result = new("", "map", 0, null); r.Skip(tag, end); break;
                    case 7: result = new("", "opaque", 0, null); r.Skip(tag, end); break;
                    case 9: result = new("", "optional", 0, null); r.Skip(tag, end); break;
                    default: r.Skip(tag, end); break; // denotation (6)
                }
            }

            return result;
        }

        private OnnxValueInfo Tensor(long end, string kind)
        {
            int elem = 0;
            List<OnnxDim>? dims = null;
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: elem = (int)Math.Clamp(r.ReadInt64(tag), -1, int.MaxValue); break;
                    case 2: dims = Shape(r.ReadEnd(tag, end)); break;
                    default: r.Skip(tag, end); break;
                }
            }

            return new OnnxValueInfo("", kind, elem, dims);
        }

        private List<OnnxDim> Shape(long end)
        {
            var dims = new List<OnnxDim>();
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                if (WireReader.FieldNumber(tag) == 1)
                    dims.Add(Dim(r.ReadEnd(tag, end)));
                else
                    r.Skip(tag, end);
            }

            return dims;
        }

        private OnnxDim Dim(long end)
        {
            long? value = null;
            string param = "";
            uint tag;
            while ((tag = r.ReadTag(end)) != 0)
            {
                switch (WireReader.FieldNumber(tag))
                {
                    case 1: value = r.ReadInt64(tag); param = ""; break; // oneof: the last one set wins
                    case 2: param = r.ReadString(tag, end); value = null; break;
                    default: r.Skip(tag, end); break;
                }
            }

            // No value, or -1 (how some exporters write "unknown"), is dynamic; a value below -1 is invalid and kept for
            // the inspector to report.
            return value is null or -1 ? new OnnxDim(-1, param) : new OnnxDim(value.Value, "");
        }
    }
}
