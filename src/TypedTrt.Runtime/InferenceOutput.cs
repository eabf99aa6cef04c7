using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

/// <summary>One output of a convenience run, owned by the caller.</summary>
public sealed class InferenceOutput
{
    private readonly long[] _shape;
    private readonly byte[] _data;

    /// <summary>
    /// Creates an output from owned arrays (taken, not copied). Runners create these; so do producers of results outside
    /// a runner, such as the KServe client, so that remote and in-process results have one type.
    /// </summary>
    /// <param name="tensorIndex">Index of the output in the signature's tensors.</param>
    /// <param name="binding">The output's binding.</param>
    /// <param name="shape">The resolved shape.</param>
    /// <param name="data">The output's bytes in the binding's layout.</param>
    public InferenceOutput(int tensorIndex, TensorBinding binding, long[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        TensorIndex = tensorIndex;
        Binding = binding;
        _shape = shape;
        _data = data;
    }

    /// <summary>Index into the signature's tensors.</summary>
    public int TensorIndex { get; }

    /// <summary>The output's binding.</summary>
    public TensorBinding Binding { get; }

    /// <summary>The output's name.</summary>
    public string Name => Binding.Name;

    /// <summary>The resolved shape.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The raw bytes.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>The data as elements of the dtype's CLR type (or bytes).</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        RunnerSlot.CheckElementType<T>(Binding);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(_data);
    }

    /// <summary>A copy of the data as elements of the dtype's CLR type (or bytes).</summary>
    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();
}
