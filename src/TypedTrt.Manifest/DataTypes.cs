using TypedTrt.Manifest.Shared;

namespace TypedTrt.Manifest;

/// <summary>Names, sizes and parsing of <see cref="TensorDataType"/> values as they appear in manifests.</summary>
public static class DataTypes
{
    /// <summary>The manifest name of a supported type (<c>float</c>, <c>half</c>, ...).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is <see cref="TensorDataType.Unsupported"/> or undefined.</exception>
    public static string ToManifestName(TensorDataType type) =>
        IsDefined(type)
            ? DataTypeTable.Names[(int)type]
            : throw new ArgumentOutOfRangeException(nameof(type), type, "Only supported TensorRT types have a manifest name.");

    /// <summary>Parses a manifest type name; returns <see langword="false"/> for names outside TensorRT's vocabulary.</summary>
    public static bool TryParse(string name, out TensorDataType type)
    {
        int index = DataTypeTable.IndexOf(name);
        type = index < 0 ? TensorDataType.Unsupported : (TensorDataType)index;
        return index >= 0;
    }

    /// <summary>Bits per element: 4 for <c>int4</c>/<c>fp4</c>, 8, 16, 32 or 64 otherwise.</summary>
    public static int BitsPerElement(TensorDataType type) =>
        IsDefined(type)
            ? DataTypeTable.BitsPerElement((int)type)
            : throw new ArgumentOutOfRangeException(nameof(type), type, "An unsupported type has no size in TensorRT.");

    /// <summary>Whether buffers of the type hold raw bytes because .NET has no element type for it (fp8, bf16, int4, fp4, e8m0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is <see cref="TensorDataType.Unsupported"/> or undefined.</exception>
    public static bool IsRaw(TensorDataType type) =>
        IsDefined(type)
            ? DataTypeTable.IsRaw((int)type)
            : throw new ArgumentOutOfRangeException(nameof(type), type, "An unsupported type has no buffer.");

    /// <summary>Bytes needed for <paramref name="elements"/> elements, rounding packed 4-bit types up to whole bytes.</summary>
    public static long ByteCount(TensorDataType type, long elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        return ByteMath.Bytes(elements, BitsPerElement(type));
    }

    private static bool IsDefined(TensorDataType type) => (int)type >= 0 && (int)type < DataTypeTable.Names.Length;
}
