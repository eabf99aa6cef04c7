using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe.Internal;

/// <summary>The REST endpoints of the protocol (health, metadata, readiness, inference), as plain request delegates.</summary>
internal static class RestEndpoints
{
    private static readonly string[] Extensions = ["binary_tensor_data"];

    public static Task LiveAsync(HttpContext context) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, static w => w.WriteBoolean("live", true));

    public static Task ReadyAsync(HttpContext context)
    {
        bool ready = ServerReady(Repository(context));
        return WriteJsonAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w => w.WriteBoolean("ready", ready));
    }

    public static bool ServerReady(IKServeModelRepository repository)
    {
        var models = repository.Models;
        return models.Count > 0 && models.All(static m => m.IsReady);
    }

    public static Task ServerMetadataAsync(HttpContext context)
    {
        var options = Options(context);
        return WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("name", options.ServerName);
            w.WriteString("version", options.ServerVersion);
            w.WriteStartArray("extensions");
            foreach (var e in Extensions)
                w.WriteStringValue(e);
            w.WriteEndArray();
        });
    }

    public static IReadOnlyList<string> ServerExtensions => Extensions;

    public static Task ModelMetadataAsync(HttpContext context) => Guard(context, () =>
    {
        var model = ResolveFromRoute(context);
        return WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("name", model.Name);
            w.WriteStartArray("versions");
            w.WriteStringValue(model.Version);
            w.WriteEndArray();
            w.WriteString("platform", model.Platform);
            WriteTensors(w, "inputs", model.InputSpecs);
            WriteTensors(w, "outputs", model.OutputSpecs);
        });
    });

    private static void WriteTensors(Utf8JsonWriter w, string property, KServeModel.TensorSpec[] specs)
    {
        w.WriteStartArray(property);
        foreach (var s in specs)
        {
            w.WriteStartObject();
            w.WriteString("name", s.Binding.Name);
            w.WriteString("datatype", s.Datatype);
            w.WriteStartArray("shape");
            foreach (long d in s.Binding.Shape)
                w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static Task ModelReadyAsync(HttpContext context) => Guard(context, () =>
    {
        var model = ResolveFromRoute(context);
        bool ready = model.IsReady;
        return WriteJsonAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteString("name", model.Name);
            w.WriteBoolean("ready", ready);
        });
    });

    public static Task InferAsync(HttpContext context) => Guard(context, async () =>
    {
        var model = ResolveFromRoute(context);
        var limits = Options(context).Limits;
        var (body, length) = await ReadBodyAsync(context, limits).ConfigureAwait(false);
        try
        {
            long jsonLength = length;
            if (context.Request.Headers.TryGetValue(RestWire.HeaderLengthHeader, out var header))
            {
                if (!long.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out jsonLength) || jsonLength > length)
                    throw RestWire.Invalid($"{RestWire.HeaderLengthHeader} is '{RestWire.Clip(header.ToString())}'; it must be the byte length of the JSON header, 0 to the body's {length} bytes.");
            }

            if (jsonLength > limits.MaxJsonBytes)
                throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request's JSON is {jsonLength} bytes; at most {limits.MaxJsonBytes} are accepted (send large tensors as binary data).");
            var memory = body.AsMemory(0, (int)length);
            var request = RestRequestDecoder.Decode(model, memory[..(int)jsonLength], memory[(int)jsonLength..], limits);
            var result = await InferenceCore.RunAsync(model, request.Inputs, context.RequestAborted).ConfigureAwait(false);
            var (json, binary) = RestResponseEncoder.Encode(model, request, result);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            long total = json.WrittenCount;
            if (binary.Count > 0)
            {
                response.ContentType = RestWire.BinaryContentType;
                response.Headers[RestWire.HeaderLengthHeader] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
                foreach (var b in binary)
                    total += b.Length;
            }
            else
            {
                response.ContentType = RestWire.JsonContentType;
            }

            response.ContentLength = total;
            // One flush for the JSON header and every binary output: one send on the socket, not one per piece.
            var writer = response.BodyWriter;
            writer.Write(json.WrittenSpan);
            foreach (var b in binary)
                writer.Write(b.Span);
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    });

    /// <summary>
    /// Reads the whole body into a pooled array, refusing bodies over the limit. The buffer grows with the bytes that
    /// actually arrive (doubling from 64 KiB), so a Content-Length that claims more than is sent allocates nothing extra.
    /// </summary>
    private static async Task<(byte[] Buffer, long Length)> ReadBodyAsync(HttpContext context, KServePayloadLimits limits)
    {
        long? declared = context.Request.ContentLength;
        if (declared > limits.MaxMessageBytes)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request body is {declared} bytes; at most {limits.MaxMessageBytes} are accepted.");
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = limits.MaxMessageBytes;
        long max = declared ?? limits.MaxMessageBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(max, 1, 64 * 1024));
        long length = 0;
        try
        {
            var stream = context.Request.Body;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= max)
                    {
                        if (declared is null && await stream.ReadAsync(new byte[1], context.RequestAborted).ConfigureAwait(false) > 0)
                            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request body is more than {limits.MaxMessageBytes} bytes, the most accepted.");
                        break;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, max));
                    buffer.AsSpan(0, (int)length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int want = (int)Math.Min(buffer.Length - length, max - length);
                if (want == 0)
                    break;
                int read = await stream.ReadAsync(buffer.AsMemory((int)length, want), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                    break;
                length += read;
            }

            if (declared is long expected && length != expected)
                throw RestWire.Invalid($"The request body ended after {length} of the {expected} bytes its Content-Length declares.");
            return (buffer, length);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request body is more than {limits.MaxMessageBytes} bytes, the most accepted.", ex);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static KServeModel ResolveFromRoute(HttpContext context)
    {
        var values = context.Request.RouteValues;
        string name = values["model"] as string ?? "";
        string? version = values.TryGetValue("version", out var v) ? v as string : null;
        return InferenceCore.Resolve(Repository(context), name, version);
    }

    private static async Task Guard(HttpContext context, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (KServeException ex) when (!context.Response.HasStarted)
        {
            if (ex.Kind == KServeErrorKind.Internal && context.RequestServices.GetService<ILoggerFactory>() is { } loggers)
                Log.InferenceFailed(loggers.CreateLogger("TypedTrt.Serving.KServe"), ex.InnerException ?? ex, ex.Message);
            await WriteErrorAsync(context, ex).ConfigureAwait(false);
        }
    }

    public static Task WriteErrorAsync(HttpContext context, KServeException ex) =>
        WriteJsonAsync(context, (int)ex.HttpStatus, w => w.WriteString("error", ex.Message));

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOptions.Writer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = RestWire.JsonContentType;
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
    }

    private static IKServeModelRepository Repository(HttpContext context) => context.RequestServices.GetRequiredService<IKServeModelRepository>();

    private static KServeServerOptions Options(HttpContext context) => context.RequestServices.GetRequiredService<IOptions<KServeServerOptions>>().Value;
}
