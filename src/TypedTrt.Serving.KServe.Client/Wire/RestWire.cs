using System.Text.Json;

namespace TypedTrt.Serving.KServe.Wire;

/// <summary>Names of the REST protocol and of Triton's binary tensor data extension.</summary>
internal static class RestWire
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    public const string BinaryDataSize = "binary_data_size";
    public const string BinaryData = "binary_data";
    public const string BinaryDataOutput = "binary_data_output";
    public const string JsonContentType = "application/json";
    public const string BinaryContentType = "application/octet-stream";

    /// <summary>The parts of one <c>$request_input</c> or <c>$response_output</c> before its data is materialized.</summary>
    public readonly record struct TensorHeader(string Name, string Datatype, long[] Shape, long? BinarySize, JsonElement Data, bool HasData);

    /// <summary>Reads name, datatype, shape, <c>binary_data_size</c> and <c>data</c> of one tensor object, checking their JSON types.</summary>
    public static TensorHeader ReadTensorHeader(JsonElement e, string kind, int position, KServePayloadLimits limits)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Invalid($"{kind} {position} is {e.ValueKind.ToString().ToLowerInvariant()}; it must be an object with name, shape, datatype and data.");
        string name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } s
            ? s
            : throw Invalid($"{kind} {position} has no \"name\" string.");
        string what = $"{Capital(kind)} '{name}'";
        string datatype = e.TryGetProperty("datatype", out var dt) && dt.ValueKind == JsonValueKind.String
            ? dt.GetString()!
            : throw Invalid($"{what} has no \"datatype\" string (FP32, INT64, ...).");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw Invalid($"{what} has no \"shape\" array.");
        int rank = sh.GetArrayLength();
        if (rank > limits.MaxRank)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"{what} has {rank} dimensions; at most {limits.MaxRank} are accepted.");
        var shape = new long[rank];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v))
                throw Invalid($"{what} has shape element {i} = {Clip(d.GetRawText())}; dimensions are integers.");
            shape[i++] = v;
        }

        long? binarySize = null;
        if (e.TryGetProperty("parameters", out var ps) && ps.ValueKind != JsonValueKind.Null)
        {
            if (ps.ValueKind != JsonValueKind.Object)
                throw Invalid($"{what} has \"parameters\" that is not an object.");
            if (ps.TryGetProperty(BinaryDataSize, out var bs))
            {
                if (bs.ValueKind != JsonValueKind.Number || !bs.TryGetInt64(out long b) || b < 0)
                    throw Invalid($"{what} has {BinaryDataSize} = {Clip(bs.GetRawText())}; it must be a byte count (an integer, 0 or more).");
                binarySize = b;
            }
        }

        bool hasData = e.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Null;
        if (hasData && binarySize is not null)
            throw Invalid($"{what} has both \"data\" and {BinaryDataSize}; give one.");
        if (!hasData && binarySize is null)
            throw Invalid($"{what} has no \"data\" (and no {BinaryDataSize} parameter for binary data).");
        return new TensorHeader(name, datatype, shape, binarySize, data, hasData);
    }

    /// <summary>
    /// The tensor's bytes: a slice of the binary section for binary tensors (no copy), or the JSON data converted into a
    /// new array. Sizes are checked against the shape before anything is allocated.
    /// </summary>
    public static ReadOnlyMemory<byte> ReadTensorData(in TensorHeader h, string what, long elements, long bytes, int elementSize, ReadOnlyMemory<byte> binary, ref long binaryOffset)
    {
        if (h.BinarySize is long size)
        {
            if (size != bytes)
                throw Invalid($"{what} declares {BinaryDataSize} = {size}, but {h.Datatype} {KServeTensor.Format(h.Shape)} is {bytes} bytes.");
            if (binaryOffset + size > binary.Length)
                throw Invalid($"{what} declares {size} bytes of binary data at offset {binaryOffset}, but the body has only {binary.Length} bytes after the JSON header (Inference-Header-Content-Length).");
            var slice = binary.Slice((int)binaryOffset, (int)size);
            binaryOffset += size;
            return slice;
        }

        long count = TensorJson.CountElements(h.Data, elements);
        if (count != elements)
            throw Invalid($"{what} has {(count > elements ? "more than " + elements : count.ToString(System.Globalization.CultureInfo.InvariantCulture))} data elements, but shape {KServeTensor.Format(h.Shape)} has {elements}.");
        var buffer = new byte[bytes];
        TensorJson.Read(h.Data, h.Datatype, elementSize, buffer, what);
        return buffer;
    }

    /// <summary>Reads a boolean parameter of a parameters object (absent: <paramref name="fallback"/>).</summary>
    public static bool GetBool(JsonElement owner, string parameter, bool fallback, string what)
    {
        if (!owner.TryGetProperty("parameters", out var ps) || ps.ValueKind != JsonValueKind.Object || !ps.TryGetProperty(parameter, out var v))
            return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid($"{what} has parameter {parameter} = {Clip(v.GetRawText())}; it must be true or false."),
        };
    }

    public static KServeException Invalid(string message) => new(KServeErrorKind.InvalidArgument, message);

    public static string Clip(string text) => text.Length > 40 ? text[..40] + "..." : text;

    private static string Capital(string kind) => char.ToUpperInvariant(kind[0]) + kind[1..];
}
