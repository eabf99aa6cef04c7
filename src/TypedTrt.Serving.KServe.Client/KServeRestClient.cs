using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// KServe v2 over HTTP/REST, with Triton's binary tensor data extension for inputs and outputs by default (JSON tensors
/// as an option). Give it an <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the server (e.g.
/// <c>http://localhost:8000/</c>), typically from <c>IHttpClientFactory</c> so that handlers, retries and resilience
/// policies apply. Thread-safe.
/// </summary>
public sealed class KServeRestClient : IKServeClient
{
    private readonly HttpClient _http;
    private readonly KServeRestClientOptions _options;

    /// <summary>Creates a client over an <see cref="HttpClient"/> (not owned) whose base address is the server.</summary>
    /// <exception cref="ArgumentException">The client has no base address.</exception>
    public KServeRestClient(HttpClient httpClient, KServeRestClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
            throw new ArgumentException("The HttpClient needs a BaseAddress: the server's root, e.g. http://localhost:8000/.", nameof(httpClient));
        _http = httpClient;
        _options = options ?? new KServeRestClientOptions();
        _options.Limits.Validate();
    }

    /// <inheritdoc/>
    public async Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default)
    {
        using var r = await _http.GetAsync(new Uri("v2/health/live", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return r.IsSuccessStatusCode;
    }

    /// <inheritdoc/>
    public async Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default)
    {
        using var r = await _http.GetAsync(new Uri("v2/health/ready", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return r.IsSuccessStatusCode;
    }

    /// <inheritdoc/>
    public async Task<bool> IsModelReadyAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default)
    {
        using var r = await _http.GetAsync(ModelUri(modelName, modelVersion, "/ready"), cancellationToken).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound)
            throw await ErrorAsync(r, cancellationToken).ConfigureAwait(false);
        return r.IsSuccessStatusCode;
    }

    /// <inheritdoc/>
    public async Task<KServeServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync(new Uri("v2", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        return new KServeServerMetadata(
            root.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "",
            root.TryGetProperty("version", out var v) ? v.GetString() ?? "" : "",
            root.TryGetProperty("extensions", out var e) && e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().Select(x => x.GetString() ?? "")] : []);
    }

    /// <inheritdoc/>
    public async Task<KServeModelMetadata> GetModelMetadataAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync(ModelUri(modelName, modelVersion, ""), cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        static IReadOnlyList<KServeTensorMetadata> Tensors(JsonElement root, string property) =>
            root.TryGetProperty(property, out var a) && a.ValueKind == JsonValueKind.Array
                ? [.. a.EnumerateArray().Select(t => new KServeTensorMetadata(
                    t.GetProperty("name").GetString() ?? "",
                    t.GetProperty("datatype").GetString() ?? "",
                    [.. t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())]))]
                : [];
        return new KServeModelMetadata(
            root.TryGetProperty("name", out var n) ? n.GetString() ?? "" : modelName,
            root.TryGetProperty("versions", out var vs) && vs.ValueKind == JsonValueKind.Array ? [.. vs.EnumerateArray().Select(x => x.GetString() ?? "")] : [],
            root.TryGetProperty("platform", out var p) ? p.GetString() ?? "" : "",
            Tensors(root, "inputs"),
            Tensors(root, "outputs"));
    }

    /// <inheritdoc/>
    public async Task<KServeInferResponse> InferAsync(KServeInferRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var json = new ArrayBufferWriter<byte>(512);
        var binary = new List<ReadOnlyMemory<byte>>();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (request.Id is not null)
                w.WriteString("id", request.Id);
            w.WriteStartArray("inputs");
            foreach (var t in request.Inputs)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("datatype", t.Datatype);
                w.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                if (_options.BinaryInputs)
                {
                    w.WriteStartObject("parameters");
                    w.WriteNumber(RestWire.BinaryDataSize, t.Data.Length);
                    w.WriteEndObject();
                    binary.Add(t.Data);
                }
                else
                {
                    w.WritePropertyName("data");
                    TensorJson.Write(w, t.Datatype, t.Data.Span);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (request.Outputs.Count > 0)
            {
                w.WriteStartArray("outputs");
                foreach (var name in request.Outputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", name);
                    w.WriteStartObject("parameters");
                    w.WriteBoolean(RestWire.BinaryData, _options.BinaryOutputs);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteStartObject("parameters");
                w.WriteBoolean(RestWire.BinaryDataOutput, _options.BinaryOutputs);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        using var content = new RestRequestContent(json.WrittenMemory, binary);
        using var message = new HttpRequestMessage(HttpMethod.Post, ModelUri(request.ModelName, request.ModelVersion, "/infer")) { Content = content };
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw await ErrorAsync(response, cancellationToken).ConfigureAwait(false);
        byte[] body = await ReadLimitedAsync(response, _options.Limits.MaxMessageBytes, cancellationToken).ConfigureAwait(false);
        long jsonLength = body.Length;
        if (response.Headers.TryGetValues(RestWire.HeaderLengthHeader, out var values) || response.Content.Headers.TryGetValues(RestWire.HeaderLengthHeader, out values))
        {
            string text = string.Join(",", values);
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out jsonLength) || jsonLength > body.Length)
                throw new KServeException(KServeErrorKind.Internal, $"The response's {RestWire.HeaderLengthHeader} is '{RestWire.Clip(text)}', not a length within its {body.Length} bytes.");
        }

        return DecodeResponse(body.AsMemory(0, (int)jsonLength), body.AsMemory((int)jsonLength), _options.Limits);
    }

    internal static KServeInferResponse DecodeResponse(ReadOnlyMemory<byte> json, ReadOnlyMemory<byte> binary, KServePayloadLimits limits)
    {
        if (json.Length > limits.MaxJsonBytes)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The response's JSON is {json.Length} bytes; at most {limits.MaxJsonBytes} are accepted.");
        using var doc = Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
            throw new KServeException(KServeErrorKind.Internal, "The response has no \"outputs\" array.");
        if (outputs.GetArrayLength() > limits.MaxTensors)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The response has {outputs.GetArrayLength()} outputs; at most {limits.MaxTensors} are accepted.");
        var tensors = new List<KServeTensor>();
        long offset = 0;
        int position = 0;
        foreach (var o in outputs.EnumerateArray())
        {
            var h = RestWire.ReadTensorHeader(o, "output", position++, limits);
            string what = $"Output '{h.Name}'";
            if (!KServeDataTypes.TryGetElementSize(h.Datatype, out int size))
                throw new KServeException(KServeErrorKind.Internal, $"{what} has datatype {h.Datatype}, which this client cannot read.");
            var (elements, bytes) = TensorShapes.Measure(what, h.Shape, size, limits);
            var data = RestWire.ReadTensorData(h, what, elements, bytes, size, binary, ref offset);
            tensors.Add(new KServeTensor(h.Name, h.Datatype, h.Shape, data));
        }

        string? S(string p) => root.TryGetProperty(p, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        return new KServeInferResponse(S("model_name") ?? "", S("model_version"), S("id"), tensors);
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new KServeException(KServeErrorKind.Internal, $"The server's JSON is malformed: {ex.Message}", ex);
        }
    }

    private async Task<JsonDocument> GetJsonAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var r = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        if (!r.IsSuccessStatusCode)
            throw await ErrorAsync(r, cancellationToken).ConfigureAwait(false);
        return Parse(await ReadLimitedAsync(r, _options.Limits.MaxJsonBytes, cancellationToken).ConfigureAwait(false));
    }

    private static Uri ModelUri(string modelName, string? modelVersion, string suffix)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        string path = "v2/models/" + Uri.EscapeDataString(modelName);
        if (!string.IsNullOrEmpty(modelVersion))
            path += "/versions/" + Uri.EscapeDataString(modelVersion);
        return new Uri(path + suffix, UriKind.Relative);
    }

    private static async Task<KServeException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string message;
        try
        {
            byte[] body = await ReadLimitedAsync(response, 1 << 20, cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            message = doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : System.Text.Encoding.UTF8.GetString(body);
        }
        catch (Exception ex) when (ex is JsonException or KServeException)
        {
            message = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }

        return new KServeException(KServeException.FromHttpStatus(response.StatusCode), message);
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, long limit, CancellationToken cancellationToken)
    {
        long? declared = response.Content.Headers.ContentLength;
        if (declared > limit)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The response is {declared} bytes; at most {limit} are accepted.");
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            if (declared is long exact)
            {
                var buffer = new byte[exact];
                await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
                return buffer;
            }

            using var ms = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + read > limit)
                    throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The response is more than {limit} bytes, the most accepted.");
                ms.Write(chunk, 0, read);
            }

            return ms.ToArray();
        }
    }
}
