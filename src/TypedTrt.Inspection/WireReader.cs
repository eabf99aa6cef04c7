using Google.Protobuf;

namespace TypedTrt.Inspection;

/// <summary>
/// Walks protobuf fields of a seekable stream by tag with <see cref="CodedInputStream"/>, tracking message ends by
/// absolute offset. Large length-delimited fields that are not needed are skipped by moving the stream's position and
/// starting a fresh <see cref="CodedInputStream"/> there: <see cref="CodedInputStream.SkipLastField"/> would read the
/// skipped bytes (Google.Protobuf 3.x refills its buffer to skip), so multi-gigabyte weights would be read from disk.
/// Small ones (node definitions, names) are skipped with <see cref="CodedInputStream.SkipLastField"/>, which costs
/// neither I/O nor allocation; the length is peeked from the window with a second, array-backed
/// <see cref="CodedInputStream"/> so that the choice can be made before the field is consumed.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The CodedInputStream is created with leaveOpen; the caller owns and disposes the stream.")]
internal sealed class WireReader
{
    /// <summary>Fields up to this size are skipped by reading through them; larger ones by seeking.</summary>
    public const int SmallField = 32 * 1024;

    private readonly WindowStream _stream;
    private CodedInputStream _input;

    public WireReader(WindowStream seekableBuffered)
    {
        _stream = seekableBuffered;
        Length = _stream.Length;
        _input = new CodedInputStream(_stream, leaveOpen: true);
    }

    /// <summary>Total length of the data (the end of the outermost message).</summary>
    public long Length { get; }

    /// <summary>Absolute offset of the next byte to parse.</summary>
    public long Position => _input.Position;

    public static int FieldNumber(uint tag) => WireFormat.GetTagFieldNumber(tag);

    public static WireFormat.WireType WireType(uint tag) => WireFormat.GetTagWireType(tag);

    /// <summary>Reads the next tag of a message that ends at <paramref name="end"/>, or 0 at its end.</summary>
    public uint ReadTag(long end)
    {
        long p = Position;
        if (p == end)
            return 0;
        if (p > end)
            throw new InvalidDataException($"a field runs past the end of its message (offset {p}, message ends at {end}).");
        uint tag = _input.ReadTag();
        if (tag == 0)
            throw new InvalidDataException($"the data ends at offset {p} inside a message that should end at offset {end} (truncated).");
        return tag;
    }

    /// <summary>Reads the length prefix of a length-delimited field and returns the absolute offset where it ends.</summary>
    public long ReadEnd(uint tag, long parentEnd)
    {
        Expect(tag, WireFormat.WireType.LengthDelimited);
        int length = _input.ReadLength();
        long end = Position + length;
        if (length < 0 || end > parentEnd)
        {
            throw new InvalidDataException(end > Length
                ? $"field {FieldNumber(tag)} at offset {Position} claims {length} bytes, past the end of the data ({Length} bytes): truncated."
                : $"field {FieldNumber(tag)} at offset {Position} claims {length} bytes, past the end of its enclosing message.");
        }

        return end;
    }

    public string ReadString(uint tag, long parentEnd)
    {
        Expect(tag, WireFormat.WireType.LengthDelimited);
        long start = Position;
        string s = _input.ReadString();
        if (Position > parentEnd)
            throw new InvalidDataException($"string field {FieldNumber(tag)} at offset {start} runs past the end of its message.");
        return s;
    }

    public long ReadInt64(uint tag)
    {
        Expect(tag, WireFormat.WireType.Varint);
        return _input.ReadInt64();
    }

    /// <summary>Skips a field this reader does not need; length-delimited payloads are skipped without reading them.</summary>
    public void Skip(uint tag, long parentEnd)
    {
        switch (WireType(tag))
        {
            case WireFormat.WireType.LengthDelimited:
                if (PeekLength() is { } length && length <= SmallField)
                {
                    long start = Position;
                    _input.SkipLastField();
                    if (Position > parentEnd)
                        throw new InvalidDataException($"field {FieldNumber(tag)} at offset {start} runs past the end of its message.");
                }
                else
                {
                    SeekTo(ReadEnd(tag, parentEnd));
                }

                break;
            case WireFormat.WireType.EndGroup:
                throw new InvalidDataException($"unexpected end-group tag at offset {Position}.");
            default:
                _input.SkipLastField();
                break;
        }
    }

    /// <summary>The length prefix at the current position, read without consuming it, when the window holds it.</summary>
    private int? PeekLength()
    {
        if (!_stream.TryGetWindow(Position, out byte[] window, out int offset, out int available))
            return null;
        var peek = new CodedInputStream(window, offset, Math.Min(available, 10));
        try
        {
            int length = peek.ReadLength();
            return length >= 0 ? length : null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null; // the varint is cut by the window's end, or malformed: take the checked path
        }
    }

    /// <summary>Continues parsing at an absolute offset.</summary>
    public void SeekTo(long offset)
    {
        if (offset > Length)
            throw new InvalidDataException($"offset {offset} is past the end of the data ({Length} bytes): truncated.");
        if (offset == Position)
            return;
        _stream.Position = offset;
        _input = new CodedInputStream(_stream, leaveOpen: true);
    }

    private void Expect(uint tag, WireFormat.WireType type)
    {
        if (WireType(tag) != type)
            throw new InvalidDataException($"field {FieldNumber(tag)} at offset {Position} has wire type {WireType(tag)}, expected {type}.");
    }
}
