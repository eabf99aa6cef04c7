using System.ComponentModel;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Bindings;

/// <summary>
/// The runtime side of generated bindings (<c>&lt;Class&gt;.Bindings</c>): the manifest the code was generated from,
/// parsed from the UTF-8 literal embedded in the generated file, and one <see cref="TensorInfo"/> per tensor. Everything
/// that is the same for every model (signature check, input and output copies, shape inference) lives here, not in
/// generated code; shape and profile checks are the runner's own (<see cref="InferenceLease.SetInputShape"/>), so
/// generated and hand-written code get the same messages.
/// </summary>
public sealed class ModelBindings
{
    private readonly TensorInfo[] _tensors;

    private ModelBindings(BindingManifest signature, string manifestFileName)
    {
        Signature = signature;
        ManifestFileName = manifestFileName;
        var profile = signature.Profiles.Count > 0 ? signature.Profiles[0] : null;
        _tensors = new TensorInfo[signature.Tensors.Count];
        for (int i = 0; i < _tensors.Length; i++)
        {
            TensorBinding t = signature.Tensors[i];
            bool afterRun = t.Mode == TensorMode.Output && signature.IsShapeKnownOnlyAfterRun(t);
            _tensors[i] = new TensorInfo(t, i, t.Mode == TensorMode.Input ? profile?.Find(t.Name) : null, afterRun);
        }
    }

    /// <summary>Parses the bindings' embedded manifest.</summary>
    /// <param name="manifestUtf8">The manifest's UTF-8 JSON (a <c>u8</c> literal in generated code: parsed in place, not re-encoded).</param>
    /// <param name="manifestFileName">The manifest's file name, for messages.</param>
    /// <exception cref="ManifestException">The manifest is invalid (cannot happen for a manifest the generator accepted: both apply the same rules).</exception>
    public static ModelBindings Parse(ReadOnlySpan<byte> manifestUtf8, string manifestFileName)
    {
        ArgumentNullException.ThrowIfNull(manifestFileName);
        return new ModelBindings(ManifestSerializer.Deserialize(manifestUtf8, manifestFileName), manifestFileName);
    }

    /// <summary>The full binding manifest (tensors, layouts, profiles) the bindings were generated from.</summary>
    public BindingManifest Signature { get; }

    /// <summary>The manifest's file name.</summary>
    public string ManifestFileName { get; }

    /// <summary>One descriptor per tensor, in manifest order (indexed like <see cref="BindingManifest.Tensors"/>).</summary>
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    /// <summary>
    /// Checks that an engine has the tensors the bindings index: the same names, modes, element types and ranks in the
    /// same order. Called by generated runner constructors.
    /// </summary>
    /// <param name="engine">The engine to run.</param>
    /// <param name="bindingsName">The generated class's name, for the message.</param>
    /// <exception cref="ArgumentNullException"><paramref name="engine"/> is null.</exception>
    /// <exception cref="ArgumentException">The engine's tensors differ; the message lists the first difference and says to regenerate.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void CheckEngine(IInferenceEngine engine, string bindingsName)
    {
        ArgumentNullException.ThrowIfNull(engine);
        BindingManifest actual = engine.Signature;
        var expected = Signature.Tensors;
        if (actual.Tensors.Count != expected.Count)
            throw new ArgumentException($"The engine has {actual.Tensors.Count} tensors, but the {bindingsName} bindings (from {Signature.Source.FileName}) have {expected.Count}; regenerate the bindings for this engine.", nameof(engine));
        for (int i = 0; i < expected.Count; i++)
        {
            TensorBinding a = actual.Tensors[i], e = expected[i];
            if (a.Name != e.Name || a.Mode != e.Mode || a.DTypeName != e.DTypeName || a.Rank != e.Rank)
                throw new ArgumentException($"Engine tensor {i} is '{a.Name}' ({a.Mode}, {a.DTypeName}, rank {a.Rank}), but the {bindingsName} bindings expect '{e.Name}' ({e.Mode}, {e.DTypeName}, rank {e.Rank}); regenerate the bindings for this engine.", nameof(engine));
        }
    }

    /// <summary>
    /// Sets an input of a generated <c>RunAsync</c>: its shape (given, or for one dynamic dimension inferred from the
    /// data's length; checked by <see cref="InferenceLease.SetInputShape"/>) and its data, copied into the slot.
    /// </summary>
    /// <exception cref="ArgumentException">The shape cannot be inferred, is outside the profile, or the data's length does not match it.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void SetInput<T>(InferenceLease lease, int index, ReadOnlyMemory<T> data, long[]? shape)
        where T : unmanaged
    {
        TensorInfo tensor = Tensor(index, input: true);
        if (shape is not null || tensor.IsDynamic)
            lease.SetInputShape(index, shape ?? InferShape(tensor, data.Length));
        Span<T> destination = lease.GetInputSpan<T>(index);
        if (data.Length != destination.Length)
        {
            throw new ArgumentException(
                $"Input '{tensor.Name}' needs {destination.Length} {(typeof(T) == typeof(byte) && tensor.DataType != TensorDataType.UInt8 ? "bytes" : "elements")} for shape {TensorBinding.FormatShape(lease.GetInputShape(index))}, but {data.Length} were given.",
                nameof(data));
        }

        data.Span.CopyTo(destination);
    }

    /// <summary>Sets a scalar input of a generated <c>RunAsync</c>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void SetScalar<T>(InferenceLease lease, int index, T value)
        where T : unmanaged => lease.GetInputSpan<T>(Tensor(index, input: true).Index)[0] = value;

    /// <summary>Copies an output of a generated <c>RunAsync</c> out of the slot, at its actual (resolved) size.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public T[] GetOutput<T>(InferenceLease lease, int index)
        where T : unmanaged => lease.GetOutputSpan<T>(Tensor(index, input: false).Index).ToArray();

    /// <summary>Reads a scalar output of a generated <c>RunAsync</c>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public T GetScalar<T>(InferenceLease lease, int index)
        where T : unmanaged => lease.GetOutputSpan<T>(Tensor(index, input: false).Index)[0];

    /// <summary>Copies an output's resolved shape.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public long[] GetShape(InferenceLease lease, int index) => lease.GetOutputShape(Tensor(index, input: false).Index).ToArray();

    private TensorInfo Tensor(int index, bool input)
    {
        TensorInfo t = (uint)index < (uint)_tensors.Length
            ? _tensors[index]
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"The bindings have {_tensors.Length} tensors.");
        return t.IsInput == input ? t : throw new ArgumentException($"Tensor {index} ('{t.Name}') is not an {(input ? "input" : "output")}.", nameof(index));
    }

    /// <summary>
    /// The shape of a dynamic input given only its data: the one dynamic dimension is the data's length divided by the
    /// product of the static ones (linear layouts with a .NET element type only).
    /// </summary>
    /// <exception cref="ArgumentException">More than one dynamic dimension, a raw or vectorized layout, or a length that is not a whole number of rows.</exception>
    public static long[] InferShape(TensorInfo tensor, long length)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long[] shape = tensor.Shape.ToArray();
        int dynamic = -1, count = 0;
        long known = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] < 0)
            {
                dynamic = d;
                count++;
            }
            else
            {
                known = checked(known * shape[d]);
            }
        }

        bool raw = tensor.DataType == TensorDataType.Unsupported || DataTypes.IsRaw(tensor.DataType);
        bool vectorized = tensor.Binding.Layout is { ComponentsPerElement: > 1 };
        if (count != 1 || raw || vectorized)
        {
            string why = count != 1 ? $"{count} dynamic dimensions" : raw ? "raw-byte data" : "a vectorized layout";
            throw new ArgumentException($"Input '{tensor.Name}' (shape {TensorBinding.FormatShape(shape)}) has {why}, so its shape cannot be inferred from the data's length; give its shape.", nameof(length));
        }

        if (known == 0)
        {
            shape[dynamic] = 0;
        }
        else
        {
            if (length % known != 0)
                throw new ArgumentException($"Input '{tensor.Name}': {length} elements are not a whole number of {known}-element rows; give its shape.", nameof(length));
            shape[dynamic] = length / known;
        }

        return shape;
    }
}
