using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TypedTrt.TensorRT;

/// <summary>
/// What the first bytes of a TensorRT engine file say, read without TensorRT: plans from TensorRT 8.6 on start with
/// the magic <c>0x74727466</c> ("ftrt") and carry the version of the TensorRT that built them in bytes 24..27
/// (major, minor, patch, build). Ultralytics <c>.engine</c> files put <c>[uint32 LE length][JSON metadata]</c> in front
/// of the plan.
/// </summary>
public sealed class TensorRtPlanHeader
{
    /// <summary>The plan magic, read as a little-endian uint32 ("ftrt").</summary>
    public const uint Magic = 0x74727466;

    private const int VersionOffset = 24;

    private TensorRtPlanHeader(Version version, int planOffset, string? metadataJson)
    {
        Version = version;
        PlanOffset = planOffset;
        MetadataJson = metadataJson;
    }

    /// <summary>The TensorRT version that built the plan: major.minor.patch.build.</summary>
    public Version Version { get; }

    /// <summary>Where the plan starts in the file: 0, or 4 + the length of an Ultralytics metadata prefix.</summary>
    public int PlanOffset { get; }

    /// <summary>The Ultralytics JSON metadata in front of the plan, or <see langword="null"/>.</summary>
    public string? MetadataJson { get; }

    /// <summary>Reads the header of an engine file's bytes; <see langword="false"/> when there is no plan magic at 0 or after an Ultralytics prefix.</summary>
    public static bool TryRead(ReadOnlySpan<byte> file, [NotNullWhen(true)] out TensorRtPlanHeader? header)
    {
        header = null;
        if (IsPlanAt(file, 0))
        {
            header = new TensorRtPlanHeader(VersionAt(file, 0), 0, null);
            return true;
        }

        if (file.Length < 4)
            return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(file);
        if (length > int.MaxValue - 4 || 4 + (long)length > file.Length)
            return false;
        int offset = 4 + (int)length;
        if (!IsPlanAt(file, offset))
            return false;
        string json;
        try
        {
            json = new UTF8Encoding(false, true).GetString(file.Slice(4, (int)length));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        header = new TensorRtPlanHeader(VersionAt(file, offset), offset, json);
        return true;
    }

    /// <summary>Reads the header or throws <see cref="InvalidDataException"/> saying why the bytes are not a TensorRT plan.</summary>
    /// <param name="file">The engine file's bytes.</param>
    /// <param name="description">How to name the file in the message.</param>
    public static TensorRtPlanHeader Read(ReadOnlySpan<byte> file, string description)
    {
        if (TryRead(file, out var header))
            return header;
        throw new InvalidDataException(
            $"{description} is not a TensorRT engine plan: it has no plan magic 'ftrt' (0x74727466) at offset 0, nor after an Ultralytics " +
            $"[uint32 length][JSON] prefix ({file.Length} bytes). Plans are written by TensorRT's builder (trtexec --saveEngine, " +
            "Ultralytics format=engine); TensorRT before 8.6 wrote plans without the magic, which TensorRT 10 cannot load anyway.");
    }

    private static bool IsPlanAt(ReadOnlySpan<byte> file, int offset) =>
        file.Length >= offset + VersionOffset + 4 && BinaryPrimitives.ReadUInt32LittleEndian(file[offset..]) == Magic;

    private static Version VersionAt(ReadOnlySpan<byte> file, int offset) =>
        new(file[offset + VersionOffset], file[offset + VersionOffset + 1], file[offset + VersionOffset + 2], file[offset + VersionOffset + 3]);
}
