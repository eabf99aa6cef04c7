using TypedTrt.Manifest;

namespace TypedTrt.Runtime.Bindings;

/// <summary>
/// One tensor of generated bindings, as the generated <c>&lt;Class&gt;.Tensors</c> descriptors expose it: name, index,
/// element type, shape, dimension names and the range optimization profile 0 allows. Derived from the embedded
/// manifest, so it always agrees with <see cref="ModelBindings.Signature"/>.
/// </summary>
public sealed class TensorInfo
{
    private readonly long[] _shape, _min, _opt, _max;

    internal TensorInfo(TensorBinding binding, int index, ProfileShape? range, bool shapeKnownOnlyAfterRun)
    {
        Binding = binding;
        Index = index;
        _shape = [.. binding.Shape];
        if (binding.Mode == TensorMode.Input && (range is not null || !binding.IsDynamic))
        {
            _min = range is null ? _shape : [.. range.Min];
            _opt = range is null ? _shape : [.. range.Opt];
            _max = range is null ? _shape : [.. range.Max];
        }
        else
        {
            _min = _opt = _max = [];
        }

        IsShapeKnownOnlyAfterRun = shapeKnownOnlyAfterRun;
        ElementCount = binding.StaticElementCount;
        MaxElementCount = _max.Length == binding.Rank && binding.Mode == TensorMode.Input ? TensorBinding.ElementCount(_max) : ElementCount;
    }

    /// <summary>The tensor's manifest entry (layout included).</summary>
    public TensorBinding Binding { get; }

    /// <summary>The tensor's name exactly as in the model.</summary>
    public string Name => Binding.Name;

    /// <summary>The tensor's index in <see cref="BindingManifest.Tensors"/>: what the runner's and lease's index-based APIs take.</summary>
    public int Index { get; }

    /// <summary>Whether the tensor is an input (otherwise an output).</summary>
    public bool IsInput => Binding.Mode == TensorMode.Input;

    /// <summary>The element type (<see cref="TensorDataType.Unsupported"/> for a type TensorRT cannot bind; see <see cref="DTypeName"/>).</summary>
    public TensorDataType DataType => Binding.DataType;

    /// <summary>The manifest's element type name (<c>float</c>, <c>half</c>, ...; the model's own name for unsupported types).</summary>
    public string DTypeName => Binding.DTypeName;

    /// <summary>The model's shape; -1 marks a dynamic dimension, empty for a scalar.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>One name per dimension (<c>""</c> when unnamed).</summary>
    public IReadOnlyList<string> DimNames => Binding.DimNames;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Whether any dimension is dynamic (-1 in <see cref="Shape"/>).</summary>
    public bool IsDynamic => Binding.IsDynamic;

    /// <summary>The element count of a static shape, or <see langword="null"/> for a dynamic one.</summary>
    public long? ElementCount { get; }

    /// <summary>
    /// Whether the manifest gives this input a range in optimization profile 0 (always for static inputs, never for
    /// outputs). A dynamic input without one cannot be run on that profile.
    /// </summary>
    public bool HasProfileRange => _max.Length == _shape.Length && IsInput;

    /// <summary>The smallest shape optimization profile 0 allows (the shape itself for a static input; empty for outputs and unranged inputs).</summary>
    public ReadOnlySpan<long> MinShape => _min;

    /// <summary>The shape optimization profile 0 is tuned for (as <see cref="MinShape"/>).</summary>
    public ReadOnlySpan<long> OptShape => _opt;

    /// <summary>The largest shape optimization profile 0 allows (as <see cref="MinShape"/>).</summary>
    public ReadOnlySpan<long> MaxShape => _max;

    /// <summary>Elements at <see cref="MaxShape"/> for inputs, <see cref="ElementCount"/> for static outputs, otherwise <see langword="null"/>.</summary>
    public long? MaxElementCount { get; }

    /// <summary>
    /// For outputs: whether some dimension is known only after a run (unnamed, or named with a symbol no input has), as
    /// for data-dependent outputs; the runner sizes such outputs after the run (see <see cref="BindingManifest.IsShapeKnownOnlyAfterRun"/>).
    /// </summary>
    public bool IsShapeKnownOnlyAfterRun { get; }

    /// <summary>For messages: <c>input 'images' float [batch, 3, 224, 224]</c>.</summary>
    public override string ToString()
    {
        var dims = new string[_shape.Length];
        for (int d = 0; d < dims.Length; d++)
        {
            string name = Binding.DimNames[d];
            dims[d] = _shape[d] >= 0
                ? _shape[d].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : name.Length > 0 ? name : "?";
        }

        return $"{(IsInput ? "input" : "output")} '{Name}' {DTypeName} [{string.Join(", ", dims)}]";
    }
}
