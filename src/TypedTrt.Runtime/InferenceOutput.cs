using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

/// <summary>One output of a convenience run, owned by the caller.</summary>
public sealed class InferenceOutput
{
    private readonly long[] _shape;
    private readonly byte[] _data;

    internal InferenceOutput(int tensorIndex, TensorBinding binding, long[] shape, byte[] data)
    {
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
