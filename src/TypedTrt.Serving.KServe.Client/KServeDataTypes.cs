using TypedTrt.Manifest;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// The protocol's tensor datatypes (<c>BOOL</c>, <c>UINT8</c> ... <c>FP64</c>, <c>BYTES</c>, and Triton's <c>BF16</c>) and
/// their mapping to the manifest's <see cref="TensorDataType"/>.
/// </summary>
public static class KServeDataTypes
{
    /// <summary><c>BOOL</c>: one byte, 0 or 1.</summary>
    public const string Bool = "BOOL";

    /// <summary><c>UINT8</c>.</summary>
    public const string UInt8 = "UINT8";

    /// <summary><c>UINT16</c>.</summary>
    public const string UInt16 = "UINT16";

    /// <summary><c>UINT32</c>.</summary>
    public const string UInt32 = "UINT32";

    /// <summary><c>UINT64</c>.</summary>
    public const string UInt64 = "UINT64";

    /// <summary><c>INT8</c>.</summary>
    public const string Int8 = "INT8";

    /// <summary><c>INT16</c>.</summary>
    public const string Int16 = "INT16";

    /// <summary><c>INT32</c>.</summary>
    public const string Int32 = "INT32";

    /// <summary><c>INT64</c>.</summary>
    public const string Int64 = "INT64";

    /// <summary><c>FP16</c> (IEEE half).</summary>
    public const string FP16 = "FP16";

    /// <summary><c>BF16</c> (bfloat16; Triton's extension of the protocol's table).</summary>
    public const string BF16 = "BF16";

    /// <summary><c>FP32</c>.</summary>
    public const string FP32 = "FP32";

    /// <summary><c>FP64</c>.</summary>
    public const string FP64 = "FP64";

    /// <summary><c>BYTES</c>: variable-length byte strings (not used by TypedTrt engines).</summary>
    public const string Bytes = "BYTES";

    /// <summary>
    /// The protocol datatype of a manifest type, or <see langword="null"/> when the protocol has none
    /// (<c>fp8</c>, <c>int4</c>, <c>fp4</c>, <c>e8m0</c>, unsupported types).
    /// </summary>
    public static string? FromTensorDataType(TensorDataType type) => type switch
    {
        TensorDataType.Float => FP32,
        TensorDataType.Half => FP16,
        TensorDataType.BF16 => BF16,
        TensorDataType.Int8 => Int8,
        TensorDataType.Int32 => Int32,
        TensorDataType.Int64 => Int64,
        TensorDataType.UInt8 => UInt8,
        TensorDataType.Bool => Bool,
        _ => null,
    };

    /// <summary>The protocol datatype of a binding, or a <see cref="NotSupportedException"/> that names the tensor.</summary>
    /// <exception cref="NotSupportedException">The binding's dtype has no protocol datatype.</exception>
    public static string FromBinding(TensorBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return FromTensorDataType(binding.DataType)
            ?? throw new NotSupportedException($"Tensor '{binding.Name}' has dtype '{binding.DTypeName}', which the KServe v2 protocol has no datatype for (it carries BOOL, UINT8, INT8, INT32, INT64, FP16, BF16 and FP32 tensors of TypedTrt engines).");
    }

    /// <summary>The manifest type of a protocol datatype that TypedTrt engines bind.</summary>
    public static bool TryToTensorDataType(string datatype, out TensorDataType type)
    {
        type = datatype switch
        {
            FP32 => TensorDataType.Float,
            FP16 => TensorDataType.Half,
            BF16 => TensorDataType.BF16,
            Int8 => TensorDataType.Int8,
            Int32 => TensorDataType.Int32,
            Int64 => TensorDataType.Int64,
            UInt8 => TensorDataType.UInt8,
            Bool => TensorDataType.Bool,
            _ => TensorDataType.Unsupported,
        };
        return type != TensorDataType.Unsupported;
    }

    /// <summary>Bytes per element of a fixed-size protocol datatype; <see langword="false"/> for <c>BYTES</c> and unknown names.</summary>
    public static bool TryGetElementSize(string datatype, out int bytes)
    {
        bytes = datatype switch
        {
            Bool or UInt8 or Int8 => 1,
            UInt16 or Int16 or FP16 or BF16 => 2,
            UInt32 or Int32 or FP32 => 4,
            UInt64 or Int64 or FP64 => 8,
            _ => 0,
        };
        return bytes > 0;
    }

    /// <summary>Whether the name is one of the protocol's datatypes (including <c>BYTES</c> and <c>BF16</c>).</summary>
    public static bool IsKnown(string datatype) => datatype == Bytes || TryGetElementSize(datatype, out _);
}
