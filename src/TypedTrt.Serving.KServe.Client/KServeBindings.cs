using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Bindings;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// What generated <c>&lt;Class&gt;Client</c>s call per tensor: typed inputs to <see cref="InferenceInput"/>s (shapes
/// inferred as the in-process runner infers them) and <see cref="InferenceResult"/> outputs to typed arrays.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class KServeBindings
{
    /// <summary>An input from typed data and an optional shape (inferred from the data's length for one dynamic dimension).</summary>
    /// <exception cref="ArgumentException">The shape cannot be inferred.</exception>
    public static InferenceInput Input<T>(ModelBindings bindings, int index, ReadOnlyMemory<T> data, long[]? shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(bindings);
        TensorInfo tensor = bindings.Tensors[index];
        if (shape is null && tensor.IsDynamic)
            shape = ModelBindings.InferShape(tensor, data.Length);
        ReadOnlyMemory<byte> bytes = typeof(T) == typeof(byte)
            ? Unsafe.As<ReadOnlyMemory<T>, ReadOnlyMemory<byte>>(ref data)
            : MemoryMarshal.AsBytes(data.Span).ToArray();
        return new InferenceInput(index, bytes, shape);
    }

    /// <summary>A scalar input.</summary>
    public static InferenceInput Scalar<T>(ModelBindings bindings, int index, T value)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(bindings);
        return InferenceInput.Create<T>(index, [value]);
    }

    /// <summary>An output's elements.</summary>
    public static T[] Output<T>(InferenceResult result, int index)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetOutput(index).ToArray<T>();
    }

    /// <summary>A scalar output.</summary>
    public static T Scalar<T>(InferenceResult result, int index)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetOutput(index).AsSpan<T>()[0];
    }

    /// <summary>An output's resolved shape.</summary>
    public static long[] Shape(InferenceResult result, int index)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. result.GetOutput(index).Shape];
    }
}
