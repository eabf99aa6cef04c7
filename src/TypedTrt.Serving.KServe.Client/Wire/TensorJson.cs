using System.Buffers.Binary;
using System.Text.Json;

namespace TypedTrt.Serving.KServe.Wire;

/// <summary>
/// JSON tensor data (the REST <c>"data"</c> member): row-major numbers (or <c>true</c>/<c>false</c> for BOOL), flat or
/// nested. Non-finite floats are written and read as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>,
/// since JSON numbers cannot express them.
/// </summary>
internal static class TensorJson
{
    /// <summary>Counts the scalars of a flat or nested array (a bare scalar counts as one), stopping once past <paramref name="stopAfter"/>.</summary>
    public static long CountElements(JsonElement data, long stopAfter)
    {
        if (data.ValueKind != JsonValueKind.Array)
            return 1;
        long n = 0;
        foreach (var item in data.EnumerateArray())
        {
            n += item.ValueKind == JsonValueKind.Array ? CountElements(item, stopAfter - n) : 1;
            if (n > stopAfter)
                return n;
        }

        return n;
    }

    /// <summary>Converts the JSON elements into little-endian bytes of <paramref name="datatype"/>; <paramref name="destination"/> holds exactly the counted elements.</summary>
    public static void Read(JsonElement data, string datatype, int elementSize, Span<byte> destination, string what)
    {
        int index = 0;
        Fill(data, datatype, elementSize, destination, ref index, what);
    }

    private static void Fill(JsonElement data, string datatype, int size, Span<byte> dst, ref int index, string what)
    {
        if (data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
                Fill(item, datatype, size, dst, ref index, what);
            return;
        }

        WriteOne(data, datatype, dst.Slice(index * size, size), index, what);
        index++;
    }

    private static void WriteOne(JsonElement e, string datatype, Span<byte> dst, int index, string what)
    {
        switch (datatype)
        {
            case KServeDataTypes.Bool:
                dst[0] = e.ValueKind switch
                {
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => throw Bad(e, datatype, index, what, "true or false"),
                };
                break;
            case KServeDataTypes.FP32:
                {
                    double d = GetFloating(e, datatype, index, what);
                    float f = (float)d;
                    if (float.IsInfinity(f) && !double.IsInfinity(d))
                        throw Bad(e, datatype, index, what, "a number within FP32's range");
                    BinaryPrimitives.WriteSingleLittleEndian(dst, f);
                    break;
                }

            case KServeDataTypes.FP64:
                BinaryPrimitives.WriteDoubleLittleEndian(dst, GetFloating(e, datatype, index, what));
                break;
            case KServeDataTypes.FP16:
                {
                    double d = GetFloating(e, datatype, index, what);
                    Half h = (Half)d;
                    if (Half.IsInfinity(h) && !double.IsInfinity(d))
                        throw Bad(e, datatype, index, what, "a number within FP16's range (|x| <= 65504)");
                    BinaryPrimitives.WriteHalfLittleEndian(dst, h);
                    break;
                }

            case KServeDataTypes.BF16:
                {
                    double d = GetFloating(e, datatype, index, what);
                    float f = (float)d;
                    if (float.IsInfinity(f) && !double.IsInfinity(d))
                        throw Bad(e, datatype, index, what, "a number within BF16's range");
                    ushort bits = BFloat16.FromSingle(f);
                    if (float.IsInfinity(BFloat16.ToSingle(bits)) && !float.IsInfinity(f))
                        throw Bad(e, datatype, index, what, "a number within BF16's range");
                    BinaryPrimitives.WriteUInt16LittleEndian(dst, bits);
                    break;
                }

            case KServeDataTypes.Int8:
                dst[0] = (byte)(sbyte)GetInteger(e, datatype, index, what, sbyte.MinValue, sbyte.MaxValue);
                break;
            case KServeDataTypes.Int16:
                BinaryPrimitives.WriteInt16LittleEndian(dst, (short)GetInteger(e, datatype, index, what, short.MinValue, short.MaxValue));
                break;
            case KServeDataTypes.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(dst, (int)GetInteger(e, datatype, index, what, int.MinValue, int.MaxValue));
                break;
            case KServeDataTypes.Int64:
                BinaryPrimitives.WriteInt64LittleEndian(dst, GetInteger(e, datatype, index, what, long.MinValue, long.MaxValue));
                break;
            case KServeDataTypes.UInt8:
                dst[0] = (byte)GetInteger(e, datatype, index, what, 0, byte.MaxValue);
                break;
            case KServeDataTypes.UInt16:
                BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)GetInteger(e, datatype, index, what, 0, ushort.MaxValue));
                break;
            case KServeDataTypes.UInt32:
                BinaryPrimitives.WriteUInt32LittleEndian(dst, (uint)GetInteger(e, datatype, index, what, 0, uint.MaxValue));
                break;
            case KServeDataTypes.UInt64:
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetUInt64(out ulong u))
                    throw Bad(e, datatype, index, what, "an integer from 0 to 18446744073709551615");
                BinaryPrimitives.WriteUInt64LittleEndian(dst, u);
                break;
            default:
                throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has datatype {datatype}, which has no JSON element form here; send it as binary data.");
        }
    }

    private static double GetFloating(JsonElement e, string datatype, int index, string what)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d))
            return d;
        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
        }

        throw Bad(e, datatype, index, what, "a number (or \"NaN\", \"Infinity\", \"-Infinity\")");
    }

    private static long GetInteger(JsonElement e, string datatype, int index, string what, long min, long max)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) && v >= min && v <= max)
            return v;
        throw Bad(e, datatype, index, what, $"an integer from {min} to {max}");
    }

    private static KServeException Bad(JsonElement e, string datatype, int index, string what, string expected)
    {
        string text = e.GetRawText();
        if (text.Length > 40)
            text = text[..40] + "...";
        return new KServeException(KServeErrorKind.InvalidArgument, $"{what} element {index} is {text}; a {datatype} element must be {expected}.");
    }

    /// <summary>Writes the elements of raw little-endian <paramref name="data"/> as a flat JSON array.</summary>
    public static void Write(Utf8JsonWriter w, string datatype, ReadOnlySpan<byte> data)
    {
        w.WriteStartArray();
        switch (datatype)
        {
            case KServeDataTypes.Bool:
                foreach (byte b in data)
                    w.WriteBooleanValue(b != 0);
                break;
            case KServeDataTypes.FP32:
                for (int i = 0; i < data.Length; i += 4)
                    WriteFloat(w, BinaryPrimitives.ReadSingleLittleEndian(data[i..]));
                break;
            case KServeDataTypes.FP64:
                for (int i = 0; i < data.Length; i += 8)
                {
                    double d = BinaryPrimitives.ReadDoubleLittleEndian(data[i..]);
                    if (double.IsFinite(d))
                        w.WriteNumberValue(d);
                    else
                        w.WriteStringValue(NonFinite(d));
                }

                break;
            case KServeDataTypes.FP16:
                for (int i = 0; i < data.Length; i += 2)
                    WriteFloat(w, (float)BinaryPrimitives.ReadHalfLittleEndian(data[i..]));
                break;
            case KServeDataTypes.BF16:
                for (int i = 0; i < data.Length; i += 2)
                    WriteFloat(w, BFloat16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[i..])));
                break;
            case KServeDataTypes.Int8:
                foreach (byte b in data)
                    w.WriteNumberValue((sbyte)b);
                break;
            case KServeDataTypes.Int16:
                for (int i = 0; i < data.Length; i += 2)
                    w.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(data[i..]));
                break;
            case KServeDataTypes.Int32:
                for (int i = 0; i < data.Length; i += 4)
                    w.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(data[i..]));
                break;
            case KServeDataTypes.Int64:
                for (int i = 0; i < data.Length; i += 8)
                    w.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(data[i..]));
                break;
            case KServeDataTypes.UInt8:
                foreach (byte b in data)
                    w.WriteNumberValue(b);
                break;
            case KServeDataTypes.UInt16:
                for (int i = 0; i < data.Length; i += 2)
                    w.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(data[i..]));
                break;
            case KServeDataTypes.UInt32:
                for (int i = 0; i < data.Length; i += 4)
                    w.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(data[i..]));
                break;
            case KServeDataTypes.UInt64:
                for (int i = 0; i < data.Length; i += 8)
                    w.WriteNumberValue(BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
                break;
            default:
                throw new NotSupportedException($"Datatype {datatype} has no JSON element form here.");
        }

        w.WriteEndArray();
    }

    private static void WriteFloat(Utf8JsonWriter w, float f)
    {
        if (float.IsFinite(f))
            w.WriteNumberValue(f);
        else
            w.WriteStringValue(NonFinite(f));
    }

    private static string NonFinite(double d) => double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
}
