using System.Runtime.InteropServices;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// One tensor on the wire: name, protocol datatype, concrete shape and its elements as little-endian, row-major bytes
/// without padding (the protocol's raw layout; <c>BOOL</c> is one byte per element).
/// </summary>
public sealed class KServeTensor
{
    private readonly long[] _shape;

    /// <summary>Creates a tensor over existing bytes (not copied).</summary>
    /// <exception cref="ArgumentException">An empty name or datatype, a negative dimension, or data whose length does not fit the shape and datatype.</exception>
    public KServeTensor(string name, string datatype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(datatype);
        _shape = shape.ToArray();
        long elements = 1;
        foreach (long d in _shape)
        {
            if (d < 0)
                throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape {Format(_shape)}.", nameof(shape));
            elements = checked(elements * d);
        }

        if (KServeDataTypes.TryGetElementSize(datatype, out int size) && checked(elements * size) != data.Length)
            throw new ArgumentException($"Tensor '{name}' ({datatype} {Format(_shape)}) takes {elements * size} bytes; got {data.Length}.", nameof(data));
        Name = name;
        Datatype = datatype;
        Data = data;
        ElementCount = elements;
    }

    /// <summary>Creates a tensor by copying typed elements (e.g. <see cref="float"/> for <c>FP32</c>, <see cref="Half"/> for <c>FP16</c>, <see cref="bool"/> for <c>BOOL</c>).</summary>
    public static KServeTensor Create<T>(string name, string datatype, ReadOnlySpan<T> data, ReadOnlySpan<long> shape)
        where T : unmanaged =>
        new(name, datatype, shape, MemoryMarshal.AsBytes(data).ToArray());

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The protocol datatype (<c>FP32</c>, <c>INT64</c>, ...).</summary>
    public string Datatype { get; }

    /// <summary>The concrete shape.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount { get; }

    /// <summary>The elements as raw little-endian bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The shape as a span.</summary>
    public ReadOnlySpan<long> ShapeSpan => _shape;

    /// <summary>The elements reinterpreted as <typeparamref name="T"/>, whose size must be the datatype's element size.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> has another size than the datatype's elements.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        if (!KServeDataTypes.TryGetElementSize(Datatype, out int size) || size != Marshal.SizeOf<T>())
            throw new InvalidOperationException($"Tensor '{Name}' is {Datatype}; {typeof(T).Name} elements do not fit it.");
        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    /// <summary>A copy of the elements as <typeparamref name="T"/>.</summary>
    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Datatype} {Format(_shape)}";

    internal static string Format(ReadOnlySpan<long> shape) => TypedTrt.Manifest.TensorBinding.FormatShape(shape);
}
