namespace TypedTrt.Manifest;

/// <summary>Names, sizes and parsing of <see cref="TensorDataType"/> values as they appear in manifests.</summary>
public static class DataTypes
{
    private static readonly string[] Names =
        ["float", "half", "int8", "int32", "bool", "uint8", "fp8", "bf16", "int64", "int4", "fp4", "e8m0"];

    /// <summary>The manifest name of a supported type (<c>float</c>, <c>half</c>, ...).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is <see cref="TensorDataType.Unsupported"/> or undefined.</exception>
    public static string ToManifestName(TensorDataType type) =>
        (int)type >= 0 && (int)type < Names.Length
            ? Names[(int)type]
            : throw new ArgumentOutOfRangeException(nameof(type), type, "Only supported TensorRT types have a manifest name.");

    /// <summary>Parses a manifest type name; returns <see langword="false"/> for names outside TensorRT's vocabulary.</summary>
    public static bool TryParse(string name, out TensorDataType type)
    {
        int index = Array.IndexOf(Names, name);
        type = index < 0 ? TensorDataType.Unsupported : (TensorDataType)index;
        return index >= 0;
    }

    /// <summary>Bits per element: 4 for <c>int4</c>/<c>fp4</c>, 8, 16, 32 or 64 otherwise.</summary>
    public static int BitsPerElement(TensorDataType type) => type switch
    {
        TensorDataType.Float or TensorDataType.Int32 => 32,
        TensorDataType.Half or TensorDataType.BF16 => 16,
        TensorDataType.Int8 or TensorDataType.UInt8 or TensorDataType.Bool or TensorDataType.FP8 or TensorDataType.E8M0 => 8,
        TensorDataType.Int64 => 64,
        TensorDataType.Int4 or TensorDataType.FP4 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "An unsupported type has no size in TensorRT."),
    };

    /// <summary>Bytes needed for <paramref name="elements"/> elements, rounding packed 4-bit types up to whole bytes.</summary>
    public static long ByteCount(TensorDataType type, long elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        return checked((elements * BitsPerElement(type) + 7) / 8);
    }
}
