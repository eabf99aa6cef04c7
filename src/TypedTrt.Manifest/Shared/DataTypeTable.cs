// Shared source: compiled into TypedTrt.Manifest (net10.0) and linked into TypedTrt.Generators (netstandard2.0), so
// the runtime and the generator share one table. Keep it netstandard2.0-compatible: no spans, no newer BCL APIs.
using System;

namespace TypedTrt.Manifest.Shared;

/// <summary>
/// TensorRT's element types as manifests name them. The index of a name is its <c>TensorDataType</c> value
/// (TensorRT's <c>nvinfer1::DataType</c>).
/// </summary>
internal static class DataTypeTable
{
    /// <summary>Manifest names, indexed by <c>TensorDataType</c>.</summary>
    public static readonly string[] Names =
        ["float", "half", "int8", "int32", "bool", "uint8", "fp8", "bf16", "int64", "int4", "fp4", "e8m0"];

    private static readonly int[] Bits = [32, 16, 8, 32, 8, 8, 8, 16, 64, 4, 4, 8];

    // C# element types of the CLR buffers; raw types (no .NET type) are bytes.
    private static readonly string[] ClrNames =
        ["float", "global::System.Half", "sbyte", "int", "bool", "byte", "byte", "byte", "long", "byte", "byte", "byte"];

    private static readonly bool[] Raw = [false, false, false, false, false, false, true, true, false, true, true, true];

    /// <summary>The index (<c>TensorDataType</c> value) of a manifest type name, or -1 for names outside TensorRT's vocabulary.</summary>
    public static int IndexOf(string name) => Array.IndexOf(Names, name);

    /// <summary>Bits per element: 4 for <c>int4</c>/<c>fp4</c>, otherwise 8, 16, 32 or 64.</summary>
    public static int BitsPerElement(int index) => Bits[index];

    /// <summary>Whether buffers of the type hold raw bytes (no .NET element type: fp8, bf16, int4, fp4, e8m0).</summary>
    public static bool IsRaw(int index) => Raw[index];

    /// <summary>The C# element type of the type's buffers (<c>float</c>, <c>global::System.Half</c>, ...; <c>byte</c> for raw types).</summary>
    public static string ClrTypeName(int index) => ClrNames[index];

    /// <summary>Bytes per element of the CLR buffer (1 for raw types).</summary>
    public static int ClrElementBytes(int index) => Raw[index] ? 1 : Bits[index] / 8;
}
