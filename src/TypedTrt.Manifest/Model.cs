using System.Collections.ObjectModel;

namespace TypedTrt.Manifest;

/// <summary>Where a manifest came from: the model file, its hash and size, and what the file says about its producer.</summary>
public sealed class ModelSource
{
    /// <summary>Creates a source description.</summary>
    /// <param name="kind">The kind of model file.</param>
    /// <param name="fileName">The file name (no directory), e.g. <c>detector.engine</c>.</param>
    /// <param name="sha256">Lower-case hex SHA-256 of the whole file.</param>
    /// <param name="bytes">File length in bytes.</param>
    /// <param name="tensorRTVersion">For engines, the TensorRT version that built the plan (e.g. <c>10.3.0.26</c>) when known.</param>
    /// <param name="onnx">For ONNX models, the IR version, producer and opsets.</param>
    /// <param name="metadata">Free-form key/value metadata found in the file (ONNX <c>metadata_props</c>, Ultralytics JSON), sorted by key.</param>
    public ModelSource(
        ModelKind kind,
        string fileName,
        string sha256,
        long bytes,
        string? tensorRTVersion = null,
        OnnxModelInfo? onnx = null,
        IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(sha256);
        if (sha256.Length != 64 || !sha256.All(static c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new ArgumentException("SHA-256 must be 64 lower-case hex characters.", nameof(sha256));
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Kind = kind;
        FileName = fileName;
        Sha256 = sha256;
        Bytes = bytes;
        TensorRTVersion = tensorRTVersion;
        Onnx = onnx;
        var sorted = (metadata ?? []).OrderBy(static p => p.Key, StringComparer.Ordinal).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Key == sorted[i - 1].Key)
                throw new ArgumentException($"Metadata key '{sorted[i].Key}' appears twice.", nameof(metadata));
        }
        Metadata = new ReadOnlyCollection<KeyValuePair<string, string>>(sorted);
    }

    /// <summary>The kind of model file.</summary>
    public ModelKind Kind { get; }

    /// <summary>The file name, without directory.</summary>
    public string FileName { get; }

    /// <summary>Lower-case hex SHA-256 of the file.</summary>
    public string Sha256 { get; }

    /// <summary>File length in bytes.</summary>
    public long Bytes { get; }

    /// <summary>For engines, the TensorRT version that built the plan, when known.</summary>
    public string? TensorRTVersion { get; }

    /// <summary>For ONNX models, IR version, producer and opsets.</summary>
    public OnnxModelInfo? Onnx { get; }

    /// <summary>Key/value metadata from the file, sorted by key (ordinal).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }
}

/// <summary>ONNX-specific facts about a model.</summary>
public sealed class OnnxModelInfo
{
    /// <summary>Creates the ONNX description.</summary>
    public OnnxModelInfo(long irVersion, string producerName, string producerVersion, IEnumerable<KeyValuePair<string, long>> opsets)
    {
        IrVersion = irVersion;
        ProducerName = producerName ?? "";
        ProducerVersion = producerVersion ?? "";
        Opsets = new ReadOnlyCollection<KeyValuePair<string, long>>(
            (opsets ?? []).OrderBy(static p => p.Key, StringComparer.Ordinal).ToArray());
    }

    /// <summary>The ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>The exporter's name (<c>pytorch</c>, <c>tf2onnx</c>, ...), or empty.</summary>
    public string ProducerName { get; }

    /// <summary>The exporter's version, or empty.</summary>
    public string ProducerVersion { get; }

    /// <summary>Operator set versions by domain (<c>""</c> is the default ONNX domain), sorted by domain.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Opsets { get; }
}

/// <summary>Engine-only layout facts of a tensor, as TensorRT reports them for profile 0.</summary>
public sealed class EngineTensorLayout
{
    /// <summary>Creates a layout description.</summary>
    public EngineTensorLayout(
        TensorFormat format = TensorFormat.Linear,
        int vectorizedDim = -1,
        int componentsPerElement = 1,
        int bytesPerComponent = 0,
        TensorLocation location = TensorLocation.Device,
        bool isShapeTensor = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vectorizedDim, -1);
        ArgumentOutOfRangeException.ThrowIfLessThan(componentsPerElement, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerComponent);
        Format = format;
        VectorizedDim = vectorizedDim;
        ComponentsPerElement = componentsPerElement;
        BytesPerComponent = bytesPerComponent;
        Location = location;
        IsShapeTensor = isShapeTensor;
    }

    /// <summary>The memory layout.</summary>
    public TensorFormat Format { get; }

    /// <summary>The dimension that is vectorized (padded to <see cref="ComponentsPerElement"/>), or -1.</summary>
    public int VectorizedDim { get; }

    /// <summary>Components per vector element (1 for linear formats).</summary>
    public int ComponentsPerElement { get; }

    /// <summary>Bytes per component as TensorRT reports it.</summary>
    public int BytesPerComponent { get; }

    /// <summary>Where the tensor lives.</summary>
    public TensorLocation Location { get; }

    /// <summary>Whether the tensor is a shape tensor (values, not data, drive shape inference).</summary>
    public bool IsShapeTensor { get; }
}

/// <summary>One input or output tensor of an engine.</summary>
public sealed class TensorBinding
{
    private readonly long[] _shape;
    private readonly string[] _dimNames;

    /// <summary>Creates a tensor binding.</summary>
    /// <param name="name">The tensor's name exactly as in the model.</param>
    /// <param name="mode">Input or output.</param>
    /// <param name="dtypeName">The element type: a TensorRT name (<c>float</c>, <c>half</c>, ...) or, for a type TensorRT cannot bind, the model's own name (e.g. <c>double</c>).</param>
    /// <param name="shape">Dimensions; -1 marks a dynamic dimension; empty for a scalar.</param>
    /// <param name="dimNames">One name per dimension, empty string when unnamed; <see langword="null"/> for all unnamed.</param>
    /// <param name="layout">Engine layout facts; <see langword="null"/> for ONNX models.</param>
    public TensorBinding(
        string name,
        TensorMode mode,
        string dtypeName,
        IEnumerable<long> shape,
        IEnumerable<string>? dimNames = null,
        EngineTensorLayout? layout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(dtypeName);
        ArgumentNullException.ThrowIfNull(shape);
        if (mode is not (TensorMode.Input or TensorMode.Output))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "A tensor is either an input or an output.");
        Name = name;
        Mode = mode;
        DTypeName = dtypeName;
        DataType = DataTypes.TryParse(dtypeName, out var type) ? type : TensorDataType.Unsupported;
        _shape = shape.ToArray();
        foreach (long d in _shape)
        {
            if (d < -1)
                throw new ArgumentException($"Tensor '{name}': dimension {d} is invalid (use -1 for a dynamic dimension).", nameof(shape));
        }

        _dimNames = dimNames?.ToArray() ?? Enumerable.Repeat("", _shape.Length).ToArray();
        if (_dimNames.Length != _shape.Length)
            throw new ArgumentException($"Tensor '{name}': {_dimNames.Length} dim names for rank {_shape.Length}.", nameof(dimNames));
        if (Array.IndexOf(_dimNames, null) >= 0)
            throw new ArgumentException($"Tensor '{name}': a dim name is null (use \"\" for unnamed).", nameof(dimNames));
        Layout = layout;
    }

    /// <summary>The tensor's name exactly as in the model.</summary>
    public string Name { get; }

    /// <summary>Input or output.</summary>
    public TensorMode Mode { get; }

    /// <summary>The element type, or <see cref="TensorDataType.Unsupported"/> (see <see cref="DTypeName"/>).</summary>
    public TensorDataType DataType { get; }

    /// <summary>The element type's manifest name; for unsupported types the model's own name (e.g. <c>double</c>).</summary>
    public string DTypeName { get; }

    /// <summary>Whether TensorRT can bind this tensor's element type.</summary>
    public bool IsSupported => DataType != TensorDataType.Unsupported;

    /// <summary>Dimensions; -1 marks a dynamic dimension; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>One name per dimension (<c>""</c> when unnamed).</summary>
    public IReadOnlyList<string> DimNames => _dimNames;

    /// <summary>Engine layout facts, or <see langword="null"/> for ONNX models.</summary>
    public EngineTensorLayout? Layout { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Whether any dimension is dynamic (-1).</summary>
    public bool IsDynamic => Array.IndexOf(_shape, -1L) >= 0;

    /// <summary>Whether the tensor is a scalar (rank 0).</summary>
    public bool IsScalar => _shape.Length == 0;

    /// <summary>The element count of a fully static shape, or <see langword="null"/> when a dimension is dynamic.</summary>
    public long? StaticElementCount => IsDynamic ? null : ElementCount(_shape);

    /// <summary>Formats a shape the way every TypedTrt message and manifest writes it: <c>[1, 3, 224, 224]</c>, <c>[]</c> for a scalar (invariant culture).</summary>
    public static string FormatShape(ReadOnlySpan<long> shape)
    {
        var sb = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
                sb.Append(", ");
            sb.Append(shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.Append(']').ToString();
    }

    /// <inheritdoc cref="FormatShape(ReadOnlySpan{long})"/>
    public static string FormatShape(long[] shape) => FormatShape((ReadOnlySpan<long>)shape);

    /// <inheritdoc cref="FormatShape(ReadOnlySpan{long})"/>
    public static string FormatShape(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return FormatShape(shape as long[] ?? shape.ToArray());
    }

    /// <summary>The element count of a concrete shape (1 for a scalar).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentException("A concrete shape has no dynamic (-1) dimensions.", nameof(shape));
            n = checked(n * d);
        }

        return n;
    }

    /// <summary>
    /// Bytes a buffer needs for this tensor at a concrete <paramref name="shape"/>: the vectorized dimension of
    /// a vectorized engine format is padded to a multiple of its components, and 4-bit types are packed.
    /// </summary>
    public long GetByteCount(ReadOnlySpan<long> shape)
    {
        if (!IsSupported)
            throw new InvalidOperationException($"Tensor '{Name}' has type '{DTypeName}', which TensorRT cannot bind.");
        if (shape.Length != Rank)
            throw new ArgumentException($"Tensor '{Name}' has rank {Rank}, not {shape.Length}.", nameof(shape));
        long elements = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d < 0)
                throw new ArgumentException("A concrete shape has no dynamic (-1) dimensions.", nameof(shape));
            if (Layout is { } l)
                d = Shared.ByteMath.PadDimension(d, i, l.VectorizedDim, l.ComponentsPerElement);
            elements = checked(elements * d);
        }

        return DataTypes.ByteCount(DataType, elements);
    }
}

/// <summary>The min/opt/max shapes one optimization profile allows for one input.</summary>
public sealed class ProfileShape
{
    private readonly long[] _min, _opt, _max;

    /// <summary>Creates a profile range; every dimension must satisfy 0 ≤ min ≤ opt ≤ max.</summary>
    public ProfileShape(string name, IEnumerable<long> min, IEnumerable<long> opt, IEnumerable<long> max)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _min = min.ToArray();
        _opt = opt.ToArray();
        _max = max.ToArray();
        if (_min.Length != _opt.Length || _opt.Length != _max.Length)
            throw new ArgumentException($"Profile for '{name}': min, opt and max have different ranks.");
        for (int i = 0; i < _min.Length; i++)
        {
            if (_min[i] < 0 || _min[i] > _opt[i] || _opt[i] > _max[i])
                throw new ArgumentException(
                    $"Profile for '{name}': dimension {i} needs 0 <= min <= opt <= max, got {_min[i]}, {_opt[i]}, {_max[i]}.");
        }
    }

    /// <summary>The input tensor's name.</summary>
    public string Name { get; }

    /// <summary>Smallest allowed shape.</summary>
    public IReadOnlyList<long> Min => _min;

    /// <summary>Shape the engine is tuned for.</summary>
    public IReadOnlyList<long> Opt => _opt;

    /// <summary>Largest allowed shape.</summary>
    public IReadOnlyList<long> Max => _max;
}

/// <summary>One optimization profile: a shape range for each dynamic input.</summary>
public sealed class OptimizationProfile
{
    /// <summary>Creates a profile.</summary>
    public OptimizationProfile(IEnumerable<ProfileShape> inputs)
    {
        var list = inputs.ToArray();
        var dup = list.GroupBy(static p => p.Name, StringComparer.Ordinal).FirstOrDefault(static g => g.Count() > 1);
        if (dup is not null)
            throw new ArgumentException($"Profile names input '{dup.Key}' twice.", nameof(inputs));
        Inputs = new ReadOnlyCollection<ProfileShape>(list);
    }

    /// <summary>The ranges, one per dynamic input.</summary>
    public IReadOnlyList<ProfileShape> Inputs { get; }

    /// <summary>The range for an input, or <see langword="null"/>.</summary>
    public ProfileShape? Find(string inputName) => Inputs.FirstOrDefault(p => p.Name == inputName);
}

/// <summary>
/// The binding manifest (<c>typedtrt.bindings/v1</c>): an engine's inputs and outputs, in the model's order, with its
/// optimization profiles. The one contract between the inspector, the generator and the runtime.
/// </summary>
public sealed class BindingManifest
{
    /// <summary>The schema identifier this library reads and writes.</summary>
    public const string SchemaV1 = "typedtrt.bindings/v1";

    /// <summary>Creates a manifest and checks its consistency (unique names, profiles naming known inputs of matching rank).</summary>
    /// <exception cref="ArgumentException">The parts are inconsistent; the message says how.</exception>
    public BindingManifest(ModelSource source, IEnumerable<TensorBinding> tensors, IEnumerable<OptimizationProfile>? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        var t = tensors.ToArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in t)
        {
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"Tensor name '{tensor.Name}' appears twice.", nameof(tensors));
        }

        Tensors = new ReadOnlyCollection<TensorBinding>(t);
        var p = (profiles ?? []).ToArray();
        for (int i = 0; i < p.Length; i++)
        {
            foreach (var range in p[i].Inputs)
            {
                var tensor = Find(range.Name)
                    ?? throw new ArgumentException($"Profile {i} names '{range.Name}', which is not a tensor of this model.", nameof(profiles));
                if (tensor.Mode != TensorMode.Input)
                    throw new ArgumentException($"Profile {i} names '{range.Name}', which is an output.", nameof(profiles));
                if (range.Min.Count != tensor.Rank)
                    throw new ArgumentException($"Profile {i} gives '{range.Name}' rank {range.Min.Count}, but the tensor has rank {tensor.Rank}.", nameof(profiles));
                for (int d = 0; d < tensor.Rank; d++)
                {
                    long fixedDim = tensor.Shape[d];
                    if (fixedDim >= 0 && (range.Min[d] != fixedDim || range.Max[d] != fixedDim))
                        throw new ArgumentException($"Profile {i} gives static dimension {d} of '{range.Name}' (= {fixedDim}) the range {range.Min[d]}..{range.Max[d]}.", nameof(profiles));
                }
            }
        }

        Profiles = new ReadOnlyCollection<OptimizationProfile>(p);
    }

    /// <summary>Always <see cref="SchemaV1"/> for manifests this version creates.</summary>
#pragma warning disable CA1822 // an instance property so that future schema versions can vary it
    public string Schema => SchemaV1;
#pragma warning restore CA1822

    /// <summary>The model file this manifest describes.</summary>
    public ModelSource Source { get; }

    /// <summary>All IO tensors in the model's order.</summary>
    public IReadOnlyList<TensorBinding> Tensors { get; }

    /// <summary>Optimization profiles (may be empty when every input is static).</summary>
    public IReadOnlyList<OptimizationProfile> Profiles { get; }

    /// <summary>The inputs, in model order.</summary>
    public IEnumerable<TensorBinding> Inputs => Tensors.Where(static t => t.Mode == TensorMode.Input);

    /// <summary>The outputs, in model order.</summary>
    public IEnumerable<TensorBinding> Outputs => Tensors.Where(static t => t.Mode == TensorMode.Output);

    /// <summary>
    /// Whether an output's shape is known only after a run: some dynamic dimension of it is unnamed, or named with a
    /// symbol that no input dimension has, so no input shape determines it (data-dependent outputs such as NonZero or
    /// NMS, per-output symbols of Paddle2ONNX exports). The generator documents such outputs; the runner sizes them
    /// after the run. The same rule the generator applies (shared source).
    /// </summary>
    /// <param name="output">An output of this manifest.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is an input.</exception>
    public bool IsShapeKnownOnlyAfterRun(TensorBinding output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Mode != TensorMode.Output)
            throw new ArgumentException($"'{output.Name}' is an input, not an output.", nameof(output));
        _inputSymbols ??= Shared.OutputShapeRule.InputSymbols(Inputs.Select(static t => t.DimNames));
        return Shared.OutputShapeRule.IsKnownOnlyAfterRun(output.Shape, output.DimNames, _inputSymbols);
    }

    private HashSet<string>? _inputSymbols;

    /// <summary>The tensor with this exact name, or <see langword="null"/>.</summary>
    public TensorBinding? Find(string name)
    {
        foreach (var t in Tensors)
        {
            if (t.Name == name)
                return t;
        }

        return null;
    }
}
