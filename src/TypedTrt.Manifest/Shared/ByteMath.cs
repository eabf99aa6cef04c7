// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
using System.Collections.Generic;

namespace TypedTrt.Manifest.Shared;

/// <summary>Buffer sizes of tensors: vectorized-format padding, 4-bit packing, overflow-checked.</summary>
internal static class ByteMath
{
    /// <summary>A dimension padded for a vectorized format: rounded up to a multiple of <paramref name="components"/> when it is the vectorized one.</summary>
    public static long PadDimension(long dim, int dimIndex, int vectorizedDim, int components) =>
        components > 1 && dimIndex == vectorizedDim ? (dim + components - 1) / components * components : dim;

    /// <summary>Bytes for <paramref name="elements"/> elements of <paramref name="bits"/> bits each, 4-bit types rounded up to whole bytes.</summary>
    /// <exception cref="System.OverflowException">The count does not fit in 64 bits.</exception>
    public static long Bytes(long elements, int bits) => checked((elements * bits) + 7) / 8;

    /// <summary>
    /// Buffer bytes of a concrete shape (no -1 dims) in a (possibly vectorized) layout, or -1 when the count overflows 64 bits.
    /// </summary>
    public static long TryByteCount(IReadOnlyList<long> shape, int bits, int vectorizedDim, int components)
    {
        long elements = 1;
        for (int i = 0; i < shape.Count; i++)
        {
            long d = PadDimension(shape[i], i, vectorizedDim, components);
            if (d != 0 && elements > long.MaxValue / d)
                return -1;
            elements *= d;
        }

        return elements > (long.MaxValue - 7) / bits ? -1 : ((elements * bits) + 7) / 8;
    }

    /// <summary>Element count of a concrete shape, or -1 when it overflows 64 bits.</summary>
    public static long TryElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d != 0 && n > long.MaxValue / d)
                return -1;
            n *= d;
        }

        return n;
    }

    /// <summary>Buffer length in CLR elements (bytes for raw types) of a buffer of <paramref name="bytes"/> bytes of type <paramref name="typeIndex"/>.</summary>
    public static long ClrLength(long bytes, int typeIndex) => bytes / DataTypeTable.ClrElementBytes(typeIndex);
}
