using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using TypedTrt.Serving.KServe.Protocol;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// KServe v2 over gRPC (<c>inference.GRPCInferenceService</c>, as served by TypedTrt and Triton). Inputs travel as
/// raw_input_contents without copying. Share one instance (and its channel): it is thread-safe. Load balancing, retries
/// and TLS are the <see cref="GrpcChannel"/>'s (configure them with <see cref="GrpcChannelOptions"/> or Grpc.Net.ClientFactory).
/// </summary>
public sealed class KServeGrpcClient : IKServeClient
{
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;
    private readonly KServePayloadLimits _limits;

    /// <summary>Creates a client over a channel (not owned).</summary>
    public KServeGrpcClient(GrpcChannel channel, KServePayloadLimits? limits = null)
        : this((channel ?? throw new ArgumentNullException(nameof(channel))).CreateCallInvoker(), limits)
    {
    }

    /// <summary>Creates a client over a call invoker (for interceptors or a client factory).</summary>
    public KServeGrpcClient(CallInvoker callInvoker, KServePayloadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(callInvoker);
        _client = new GRPCInferenceService.GRPCInferenceServiceClient(callInvoker);
        _limits = limits ?? new KServePayloadLimits();
        _limits.Validate();
    }

    /// <summary>Creates a client for an address such as <c>http://localhost:8001</c> (the channel is not disposed with the client).</summary>
    public static KServeGrpcClient Create(string address, KServePayloadLimits? limits = null)
    {
        var effective = limits ?? new KServePayloadLimits();
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, effective.MaxMessageBytes),
            MaxSendMessageSize = (int)Math.Min(int.MaxValue, effective.MaxMessageBytes),
        });
        return new KServeGrpcClient(channel, effective);
    }

    /// <inheritdoc/>
    public Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default) =>
        Call(async () => (await _client.ServerLiveAsync(new ServerLiveRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Live);

    /// <inheritdoc/>
    public Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default) =>
        Call(async () => (await _client.ServerReadyAsync(new ServerReadyRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Ready);

    /// <inheritdoc/>
    public Task<bool> IsModelReadyAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default) =>
        Call(async () => (await _client.ModelReadyAsync(new ModelReadyRequest { Name = modelName, Version = modelVersion ?? "" }, cancellationToken: cancellationToken).ConfigureAwait(false)).Ready);

    /// <inheritdoc/>
    public Task<KServeServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default) => Call(async () =>
    {
        var r = await _client.ServerMetadataAsync(new ServerMetadataRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return new KServeServerMetadata(r.Name, r.Version, [.. r.Extensions]);
    });

    /// <inheritdoc/>
    public Task<KServeModelMetadata> GetModelMetadataAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default) => Call(async () =>
    {
        var r = await _client.ModelMetadataAsync(new ModelMetadataRequest { Name = modelName, Version = modelVersion ?? "" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        static KServeTensorMetadata T(ModelMetadataResponse.Types.TensorMetadata t) => new(t.Name, t.Datatype, [.. t.Shape]);
        return new KServeModelMetadata(r.Name, [.. r.Versions], r.Platform, [.. r.Inputs.Select(T)], [.. r.Outputs.Select(T)]);
    });

    /// <inheritdoc/>
    public Task<KServeInferResponse> InferAsync(KServeInferRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = new ModelInferRequest { ModelName = request.ModelName, ModelVersion = request.ModelVersion ?? "", Id = request.Id ?? "" };
        foreach (var t in request.Inputs)
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = t.Name, Datatype = t.Datatype };
            input.Shape.AddRange(t.Shape);
            message.Inputs.Add(input);
            message.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(t.Data));
        }

        foreach (var name in request.Outputs)
            message.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = name });
        return Call(async () =>
        {
            var r = await _client.ModelInferAsync(message, cancellationToken: cancellationToken).ConfigureAwait(false);
            return Decode(r, _limits);
        });
    }

    internal static KServeInferResponse Decode(ModelInferResponse r, KServePayloadLimits limits)
    {
        if (r.Outputs.Count > limits.MaxTensors)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The response has {r.Outputs.Count} outputs; at most {limits.MaxTensors} are accepted.");
        bool raw = r.RawOutputContents.Count > 0;
        if (raw && r.RawOutputContents.Count != r.Outputs.Count)
            throw new KServeException(KServeErrorKind.Internal, $"The response has {r.RawOutputContents.Count} raw_output_contents for {r.Outputs.Count} outputs.");
        var outputs = new List<KServeTensor>(r.Outputs.Count);
        for (int i = 0; i < r.Outputs.Count; i++)
        {
            var o = r.Outputs[i];
            long[] shape = [.. o.Shape];
            string what = $"Output '{o.Name}'";
            if (!KServeDataTypes.TryGetElementSize(o.Datatype, out int size))
                throw new KServeException(KServeErrorKind.Internal, $"{what} has datatype {o.Datatype}, which this client cannot read.");
            var (elements, bytes) = TensorShapes.Measure(what, shape, size, limits);
            ReadOnlyMemory<byte> data = raw ? r.RawOutputContents[i].Memory : FromContents(o.Contents, o.Datatype, elements, bytes, what);
            if (data.Length != bytes)
                throw new KServeException(KServeErrorKind.Internal, $"{what} has {data.Length} bytes, but {o.Datatype} {KServeTensor.Format(shape)} is {bytes} bytes.");
            outputs.Add(new KServeTensor(o.Name, o.Datatype, shape, data));
        }

        return new KServeInferResponse(r.ModelName, r.ModelVersion.Length == 0 ? null : r.ModelVersion, r.Id.Length == 0 ? null : r.Id, outputs);
    }

    private static byte[] FromContents(InferTensorContents? c, string datatype, long elements, long bytes, string what)
    {
        var buffer = new byte[bytes];
        if (c is null)
            return elements == 0 ? buffer : throw new KServeException(KServeErrorKind.Internal, $"{what} has neither contents nor raw_output_contents.");
        var span = buffer.AsSpan();
        int n = checked((int)elements);
        void Need(int count)
        {
            if (count != n)
                throw new KServeException(KServeErrorKind.Internal, $"{what} has {count} elements in its contents, but its shape has {n}.");
        }

        switch (datatype)
        {
            case KServeDataTypes.FP32: Need(c.Fp32Contents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], c.Fp32Contents[i]); break;
            case KServeDataTypes.FP64: Need(c.Fp64Contents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], c.Fp64Contents[i]); break;
            case KServeDataTypes.Int64: Need(c.Int64Contents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], c.Int64Contents[i]); break;
            case KServeDataTypes.Int32: Need(c.IntContents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], c.IntContents[i]); break;
            case KServeDataTypes.Int16: Need(c.IntContents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt16LittleEndian(span[(i * 2)..], (short)c.IntContents[i]); break;
            case KServeDataTypes.Int8: Need(c.IntContents.Count); for (int i = 0; i < n; i++) span[i] = (byte)(sbyte)c.IntContents[i]; break;
            case KServeDataTypes.UInt64: Need(c.Uint64Contents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt64LittleEndian(span[(i * 8)..], c.Uint64Contents[i]); break;
            case KServeDataTypes.UInt32: Need(c.UintContents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], c.UintContents[i]); break;
            case KServeDataTypes.UInt16: Need(c.UintContents.Count); for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], (ushort)c.UintContents[i]); break;
            case KServeDataTypes.UInt8: Need(c.UintContents.Count); for (int i = 0; i < n; i++) span[i] = (byte)c.UintContents[i]; break;
            case KServeDataTypes.Bool: Need(c.BoolContents.Count); for (int i = 0; i < n; i++) span[i] = c.BoolContents[i] ? (byte)1 : (byte)0; break;
            default: throw new KServeException(KServeErrorKind.Internal, $"{what} is {datatype} but came without raw_output_contents.");
        }

        return buffer;
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw new KServeException(KServeException.FromGrpcStatus(ex.StatusCode), ex.Status.Detail, ex);
        }
    }
}
