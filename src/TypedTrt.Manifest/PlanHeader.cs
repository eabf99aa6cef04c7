using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;

namespace TypedTrt.Manifest;

/// <summary>
/// What can be read from a TensorRT plan (serialized engine) without TensorRT: where the plan starts, the TensorRT
/// version that built it, and the metadata of an Ultralytics header. Plans from TensorRT 8.6 on start with the magic
/// <c>0x74727466</c> ("ftrt" little-endian) and carry major, minor, patch, build in bytes 24–27. Ultralytics
/// <c>.engine</c> files put <c>[uint32 LE length][JSON]</c> in front of the plan.
/// </summary>
public sealed class PlanHeader
{
    /// <summary>The plan magic, little-endian.</summary>
    public const uint Magic = 0x74727466;

    /// <summary>Bytes a plan needs for its header to hold the version (bytes 24–27).</summary>
    public const int MinimumPlanBytes = 28;

    /// <summary>Largest Ultralytics JSON header accepted (a guard against reading a random length).</summary>
    public const int MaxMetadataBytes = 16 * 1024 * 1024;

    private PlanHeader(long planOffset, byte major, byte minor, byte patch, byte build, IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        PlanOffset = planOffset;
        Major = major;
        Minor = minor;
        Patch = patch;
        Build = build;
        Metadata = metadata;
    }

    /// <summary>Offset of the plan in the file (0, or 4 + the Ultralytics JSON length).</summary>
    public long PlanOffset { get; }

    /// <summary>Whether an Ultralytics metadata header precedes the plan.</summary>
    public bool HasUltralyticsHeader => PlanOffset > 0;

    /// <summary>TensorRT major version.</summary>
    public byte Major { get; }

    /// <summary>TensorRT minor version.</summary>
    public byte Minor { get; }

    /// <summary>TensorRT patch version.</summary>
    public byte Patch { get; }

    /// <summary>TensorRT build number.</summary>
    public byte Build { get; }

    /// <summary>The building TensorRT's version (major, minor, patch, build).</summary>
    public Version Version => new(Major, Minor, Patch, Build);

    /// <summary>The version as TensorRT prints it: <c>major.minor.patch.build</c>.</summary>
    public string TensorRTVersion => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}.{Build}");

    /// <summary>Whether this TypedTrt reads plans of this version (TensorRT 8.6 to 11.x).</summary>
    public bool IsSupportedVersion => Major is 9 or 10 or 11 || (Major == 8 && Minor >= 6);

    /// <summary>The Ultralytics JSON's top-level properties: strings as they are, other values as compact JSON.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }

    /// <summary>Where the plan magic is, if anywhere: 0, after an Ultralytics header, or <see langword="null"/>.</summary>
    /// <param name="stream">A seekable stream at any position; it is left at an unspecified position.</param>
    public static long? FindPlanOffset(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long length = stream.Length;
        Span<byte> head = stackalloc byte[5];
        if (length < 4)
            return null;
        stream.Position = 0;
        int n = ReadAtMost(stream, head);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) == Magic)
            return 0;
        if (n < 5 || head[4] != (byte)'{')
            return null;
        long jsonLength = BinaryPrimitives.ReadUInt32LittleEndian(head);
        long offset = 4 + jsonLength;
        if (jsonLength > MaxMetadataBytes || offset + 4 > length)
            return null;
        stream.Position = offset;
        Span<byte> magic = stackalloc byte[4];
        return ReadAtMost(stream, magic) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == Magic ? offset : null;
    }

    /// <summary>Reads the header of a plan file.</summary>
    /// <param name="stream">A seekable stream over the whole file.</param>
    /// <exception cref="InvalidDataException">No plan magic, a plan too small to hold its header, or bad Ultralytics JSON.</exception>
    public static PlanHeader Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long offset = FindPlanOffset(stream)
            ?? throw new InvalidDataException($"not a TensorRT plan: no 'ftrt' magic (0x{Magic:x8}) at offset 0 or after an Ultralytics metadata header. Plans from TensorRT older than 8.6 carry no magic and are not supported.");
        long planBytes = stream.Length - offset;
        if (planBytes < MinimumPlanBytes)
            throw new InvalidDataException($"too small to be a TensorRT plan: {planBytes} bytes after the magic's start, but a plan header alone is {MinimumPlanBytes} bytes (truncated?).");
        Span<byte> version = stackalloc byte[4];
        stream.Position = offset + 24;
        if (ReadAtMost(stream, version) != 4)
            throw new InvalidDataException("the plan header is truncated.");
        var metadata = offset > 0 ? ReadUltralytics(stream, (int)(offset - 4)) : [];
        return new PlanHeader(offset, version[0], version[1], version[2], version[3], metadata);
    }

    private static KeyValuePair<string, string>[] ReadUltralytics(Stream stream, int jsonLength)
    {
        byte[] json = new byte[jsonLength];
        stream.Position = 4;
        if (ReadAtMost(stream, json) != jsonLength)
            throw new InvalidDataException("the Ultralytics metadata header is truncated.");
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("the Ultralytics metadata header is not a JSON object.");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
                result[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : Compact(p.Value);
            return [.. result.OrderBy(static kv => kv.Key, StringComparer.Ordinal)];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the Ultralytics metadata header is not valid JSON: {e.Message}", e);
        }
    }

    private static string Compact(JsonElement e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
            e.WriteTo(w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static int ReadAtMost(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0)
                break;
            total += n;
        }

        return total;
    }
}
