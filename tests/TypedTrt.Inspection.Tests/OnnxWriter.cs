using Google.Protobuf;

namespace TypedTrt.Inspection.Tests;

/// <summary>
/// Writes protobuf messages (ONNX models for the tests and the benchmark) with <see cref="CodedOutputStream"/>,
/// streaming large byte payloads so a gigabyte of weights never sits in memory.
/// </summary>
internal static class OnnxWriter
{
    internal abstract record Part(int Field);

    internal sealed record Varint(int Field, long Value) : Part(Field);

    internal sealed record Str(int Field, string Value) : Part(Field);

    internal sealed record Msg(int Field, params Part[] Parts) : Part(Field);

    /// <summary>A length-delimited field of <paramref name="Length"/> bytes, written in chunks.</summary>
    internal sealed record Payload(int Field, long Length) : Part(Field);

    public static long Size(Part p) => p switch
    {
        Varint v => CodedOutputStream.ComputeTagSize(v.Field) + CodedOutputStream.ComputeInt64Size(v.Value),
        Str s => CodedOutputStream.ComputeTagSize(s.Field) + CodedOutputStream.ComputeStringSize(s.Value),
        Msg m => CodedOutputStream.ComputeTagSize(m.Field) + CodedOutputStream.ComputeLengthSize(checked((int)Body(m))) + Body(m),
        Payload b => CodedOutputStream.ComputeTagSize(b.Field) + CodedOutputStream.ComputeLengthSize(checked((int)b.Length)) + b.Length,
        _ => throw new ArgumentException("unknown part"),
    };

    public static long Body(Msg m) => m.Parts.Sum(Size);

    /// <summary>Writes the parts of a top-level message (no tag or length of its own).</summary>
    public static void Write(Stream stream, params Part[] parts)
    {
        using var cos = new CodedOutputStream(stream, leaveOpen: true);
        foreach (var p in parts)
            WritePart(stream, cos, p);
        cos.Flush();
    }

    public static byte[] ToBytes(params Part[] parts)
    {
        using var ms = new MemoryStream();
        Write(ms, parts);
        return ms.ToArray();
    }

    private static void WritePart(Stream stream, CodedOutputStream cos, Part p)
    {
        switch (p)
        {
            case Varint v:
                cos.WriteTag(v.Field, WireFormat.WireType.Varint);
                cos.WriteInt64(v.Value);
                break;
            case Str s:
                cos.WriteTag(s.Field, WireFormat.WireType.LengthDelimited);
                cos.WriteString(s.Value);
                break;
            case Msg m:
                cos.WriteTag(m.Field, WireFormat.WireType.LengthDelimited);
                cos.WriteLength(checked((int)Body(m)));
                foreach (var c in m.Parts)
                    WritePart(stream, cos, c);
                break;
            case Payload b:
                cos.WriteTag(b.Field, WireFormat.WireType.LengthDelimited);
                cos.WriteLength(checked((int)b.Length));
                cos.Flush();
                byte[] chunk = new byte[1 << 20];
                for (int i = 0; i < chunk.Length; i++)
                    chunk[i] = (byte)(i * 31 + 7);
                for (long left = b.Length; left > 0; left -= chunk.Length)
                    stream.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
                break;
        }
    }

    // --- ONNX building blocks (field numbers from onnx.proto) ---

    /// <summary>ValueInfoProto of a tensor; dims are numbers (fixed), strings (named) or null (unknown).</summary>
    public static Msg ValueInfo(int field, string name, int elemType, params object?[]? dims)
    {
        var tensor = new List<Part> { new Varint(1, elemType) };
        if (dims is not null)
        {
            tensor.Add(new Msg(2, dims.Select(d => (Part)(d switch
            {
                long or int => new Msg(1, new Varint(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture))),
                string s => new Msg(1, new Str(2, s)),
                _ => new Msg(1),
            })).ToArray()));
        }

        return new Msg(field, new Str(1, name), new Msg(2, new Msg(1, [.. tensor])));
    }

    public static Msg Input(string name, int elemType, params object?[]? dims) => ValueInfo(11, name, elemType, dims);

    public static Msg Output(string name, int elemType, params object?[]? dims) => ValueInfo(12, name, elemType, dims);

    /// <summary>An initializer with <paramref name="rawBytes"/> bytes of raw_data.</summary>
    public static Msg Initializer(string name, long rawBytes) =>
        new(5, new Varint(1, rawBytes / 4), new Varint(2, 1), new Str(8, name), new Payload(9, rawBytes));

    /// <summary>An initializer stored in an external file (data_location = EXTERNAL).</summary>
    public static Msg ExternalInitializer(string name, string location, long offset, long length) =>
        new(5, new Varint(1, length / 4), new Varint(2, 1), new Str(8, name),
            new Msg(13, new Str(1, "location"), new Str(2, location)),
            new Msg(13, new Str(1, "offset"), new Str(2, offset.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            new Msg(13, new Str(1, "length"), new Str(2, length.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            new Varint(14, 1));

    public static Msg Node(string op, string[] inputs, string[] outputs) =>
        new(1, [.. inputs.Select(i => (Part)new Str(1, i)), .. outputs.Select(o => (Part)new Str(2, o)), new Str(4, op)]);

    /// <summary>A whole model: header fields then the graph.</summary>
    public static Part[] Model(params Part[] graphParts) =>
    [
        new Varint(1, 8),
        new Str(2, "typedtrt-tests"),
        new Str(3, "0.1"),
        new Msg(8, new Str(1, ""), new Varint(2, 17)),
        new Msg(7, [new Str(2, "g"), .. graphParts]),
        new Msg(14, new Str(1, "k"), new Str(2, "v")),
    ];
}

/// <summary>A read-only stream wrapper that counts the bytes read through it (and passes seeks through).</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    public long BytesRead { get; private set; }

    public int ReadCalls { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        BytesRead += n;
        ReadCalls++;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
