namespace TypedTrt.Runtime;

/// <summary>One input for <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>: raw bytes in the tensor's layout and, for dynamic inputs, the concrete shape.</summary>
public readonly struct InferenceInput : IEquatable<InferenceInput>
{
    /// <summary>Creates an input from raw bytes.</summary>
    /// <param name="tensorIndex">Index into the signature's tensors.</param>
    /// <param name="data">The tensor's bytes at <paramref name="shape"/>.</param>
    /// <param name="shape">The concrete shape; may be empty for inputs without dynamic dimensions.</param>
    public InferenceInput(int tensorIndex, ReadOnlyMemory<byte> data, ReadOnlyMemory<long> shape = default)
    {
        TensorIndex = tensorIndex;
        Data = data;
        Shape = shape;
    }

    /// <summary>Creates an input by copying typed elements into a new byte array.</summary>
    public static InferenceInput Create<T>(int tensorIndex, ReadOnlySpan<T> data, ReadOnlySpan<long> shape = default)
        where T : unmanaged =>
        new(tensorIndex, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray(), shape.ToArray());

    /// <summary>Index into the signature's tensors.</summary>
    public int TensorIndex { get; }

    /// <summary>The tensor's bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The concrete shape (empty: the signature's static shape).</summary>
    public ReadOnlyMemory<long> Shape { get; }

    /// <inheritdoc/>
    public bool Equals(InferenceInput other) => TensorIndex == other.TensorIndex && Data.Equals(other.Data) && Shape.Equals(other.Shape);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InferenceInput o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TensorIndex, Data, Shape);

    /// <summary>Equality of index and memory regions.</summary>
    public static bool operator ==(InferenceInput left, InferenceInput right) => left.Equals(right);

    /// <summary>Inequality of index and memory regions.</summary>
    public static bool operator !=(InferenceInput left, InferenceInput right) => !left.Equals(right);
}
