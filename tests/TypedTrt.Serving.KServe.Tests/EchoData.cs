using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>Per dtype of the echo engine: its protocol datatype, JSON element text and little-endian bytes for 2 rows of 3 elements.</summary>
internal static class EchoData
{
    public const int Rows = 2;

    public static readonly (string DType, string Datatype, string Json, byte[] Bytes)[] All =
    [
        ("float", "FP32", "[1.5,-2.25,3.4028235E+38,0,-0,1E-45]", Bytes<float>(1.5f, -2.25f, float.MaxValue, 0f, -0f, float.Epsilon)),
        ("half", "FP16", "[0.5,-65504,1024,0.0009765625,-1,2]", Bytes<Half>((Half)0.5f, (Half)(-65504f), (Half)1024f, (Half)0.0009765625f, (Half)(-1f), (Half)2f)),
        ("bf16", "BF16", "[1,-2,0.5,256,-3.5,65536]", Bf16(1f, -2f, 0.5f, 256f, -3.5f, 65536f)),
        ("int8", "INT8", "[-128,127,0,1,-1,5]", Bytes<sbyte>(-128, 127, 0, 1, -1, 5)),
        ("int32", "INT32", "[-2147483648,2147483647,0,1,-1,123456789]", Bytes(int.MinValue, int.MaxValue, 0, 1, -1, 123456789)),
        ("int64", "INT64", "[-9223372036854775808,9223372036854775807,0,1,-1,1234567890123]", Bytes(long.MinValue, long.MaxValue, 0L, 1L, -1L, 1234567890123L)),
        ("uint8", "UINT8", "[0,255,1,128,7,42]", [0, 255, 1, 128, 7, 42]),
        ("bool", "BOOL", "[true,false,false,true,true,false]", [1, 0, 0, 1, 1, 0]),
    ];

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static byte[] Bf16(params float[] values) =>
        values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();

    /// <summary>An inference request with every input of the echo model, as JSON data or as binary data.</summary>
    public static (string Json, byte[]? Binary) Request(bool binaryInputs, bool binaryOutputs)
    {
        var sb = new StringBuilder("{\"id\":\"echo-1\",\"inputs\":[");
        var binary = new List<byte>();
        for (int i = 0; i < All.Length; i++)
        {
            var (d, dt, json, bytes) = All[i];
            if (i > 0)
                sb.Append(',');
            sb.Append($"{{\"name\":\"in_{d}\",\"datatype\":\"{dt}\",\"shape\":[{Rows},3],");
            if (binaryInputs)
            {
                sb.Append($"\"parameters\":{{\"binary_data_size\":{bytes.Length}}}}}");
                binary.AddRange(bytes);
            }
            else
            {
                sb.Append($"\"data\":{json}}}");
            }
        }

        sb.Append($"],\"parameters\":{{\"binary_data_output\":{(binaryOutputs ? "true" : "false")}}}}}");
        return (sb.ToString(), binaryInputs ? [.. binary] : null);
    }

    /// <summary>Reads one output of a REST response as bytes (binary part or JSON data converted like the server does).</summary>
    public static byte[] OutputBytes(RestResponse r, string name, ref int binaryOffset)
    {
        var o = r.Output(name);
        if (o.TryGetProperty("parameters", out var ps) && ps.TryGetProperty("binary_data_size", out var size))
        {
            var slice = r.Binary.AsSpan(binaryOffset, size.GetInt32()).ToArray();
            binaryOffset += slice.Length;
            return slice;
        }

        return [];
    }

    public static string Raw(JsonElement data) => data.GetRawText();
}
