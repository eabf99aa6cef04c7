using System.Net;

namespace TypedTrt.Serving.KServe.Wire;

/// <summary>A REST body of a JSON header followed by binary tensor parts, written without concatenating them.</summary>
internal sealed class RestRequestContent : HttpContent
{
    private readonly ReadOnlyMemory<byte> _json;
    private readonly List<ReadOnlyMemory<byte>> _binary;

    public RestRequestContent(ReadOnlyMemory<byte> json, List<ReadOnlyMemory<byte>> binary)
    {
        _json = json;
        _binary = binary;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(binary.Count > 0 ? RestWire.BinaryContentType : RestWire.JsonContentType);
        if (binary.Count > 0)
            Headers.Add(RestWire.HeaderLengthHeader, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(_json, cancellationToken).ConfigureAwait(false);
        foreach (var part in _binary)
            await stream.WriteAsync(part, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _json.Length;
        foreach (var part in _binary)
            length += part.Length;
        return true;
    }
}
