using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedTrt.Runtime;
using TypedTrt.Serving.KServe.Protocol;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe.Internal;

/// <summary><c>inference.GRPCInferenceService</c> over the model repository. Outputs always travel as raw_output_contents, as Triton sends them.</summary>
internal sealed class KServeGrpcService(IKServeModelRepository repository, IOptions<KServeServerOptions> options, ILogger<KServeGrpcService> logger)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    private readonly KServeServerOptions _options = options.Value;

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = RestEndpoints.ServerReady(repository) });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Guard(() => Task.FromResult(new ModelReadyResponse { Ready = InferenceCore.Resolve(repository, request.Name, request.Version).IsReady }));

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse { Name = _options.ServerName, Version = _options.ServerVersion };
        response.Extensions.AddRange(RestEndpoints.ServerExtensions);
        return Task.FromResult(response);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) => Guard(() =>
    {
        var model = InferenceCore.Resolve(repository, request.Name, request.Version);
        var response = new ModelMetadataResponse { Name = model.Name, Platform = model.Platform };
        response.Versions.Add(model.Version);
        foreach (var s in model.InputSpecs)
            response.Inputs.Add(Metadata(s));
        foreach (var s in model.OutputSpecs)
            response.Outputs.Add(Metadata(s));
        return Task.FromResult(response);
    });

    private static ModelMetadataResponse.Types.TensorMetadata Metadata(KServeModel.TensorSpec s)
    {
        var t = new ModelMetadataResponse.Types.TensorMetadata { Name = s.Binding.Name, Datatype = s.Datatype };
        t.Shape.AddRange(s.Binding.Shape);
        return t;
    }

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) => Guard(async () =>
    {
        var model = InferenceCore.Resolve(repository, request.ModelName, request.ModelVersion);
        var decoded = Decode(model, request, _options.Limits);
        var result = await InferenceCore.RunAsync(model, decoded.Inputs, context.CancellationToken).ConfigureAwait(false);
        var response = new ModelInferResponse { ModelName = model.Name, ModelVersion = model.Version, Id = request.Id };
        foreach (var spec in decoded.Outputs)
        {
            var output = result.GetOutput(spec.Index);
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = spec.Binding.Name, Datatype = spec.Datatype };
            foreach (long d in output.Shape)
                tensor.Shape.Add(d);
            response.Outputs.Add(tensor);
            // the output's array is owned by this response: wrap it without copying
            response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(output.Data));
        }

        return response;
    });

    internal static DecodedRequest Decode(KServeModel model, ModelInferRequest request, KServePayloadLimits limits)
    {
        if (request.Inputs.Count > limits.MaxTensors)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request has {request.Inputs.Count} inputs; at most {limits.MaxTensors} are accepted.");
        bool raw = request.RawInputContents.Count > 0;
        if (raw && request.RawInputContents.Count != request.Inputs.Count)
            throw RestWire.Invalid($"The request has {request.RawInputContents.Count} raw_input_contents entries for {request.Inputs.Count} inputs; give one per input, in the order of inputs.");
        var byInput = new InferenceInput?[model.InputSpecs.Length];
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            if (input.Shape.Count > limits.MaxRank)
                throw new KServeException(KServeErrorKind.PayloadTooLarge, $"Input '{input.Name}' has {input.Shape.Count} dimensions; at most {limits.MaxRank} are accepted.");
            long[] shape = [.. input.Shape];
            var (spec, elements, bytes) = InferenceCore.CheckInput(model, input.Name, input.Datatype, shape, limits);
            int slot = InferenceCore.Slot(model, spec, byInput);
            ReadOnlyMemory<byte> data;
            string what = $"Input '{input.Name}'";
            if (raw)
            {
                if (input.Contents is not null && CountContents(input.Contents) > 0)
                    throw RestWire.Invalid($"{what} has contents, but the request also uses raw_input_contents; use one or the other for all inputs.");
                data = request.RawInputContents[i].Memory;
                if (data.Length != bytes)
                    throw RestWire.Invalid($"{what} has {data.Length} bytes of raw_input_contents, but {spec.Datatype} {KServeTensor.Format(shape)} is {bytes} bytes.");
            }
            else
            {
                data = FromContents(input.Contents, spec.Datatype, elements, bytes, what);
            }

            byInput[slot] = new InferenceInput(spec.Index, data, shape);
        }

        InferenceCore.CheckComplete(model, byInput);
        var outputs = new List<KServeModel.TensorSpec>();
        foreach (var o in request.Outputs)
        {
            if (o.Parameters.ContainsKey("classification"))
                throw RestWire.Invalid($"Output '{o.Name}' asks for the classification extension, which this server does not implement.");
            outputs.Add(InferenceCore.ResolveOutput(model, o.Name, outputs));
        }

        if (outputs.Count == 0)
            outputs.AddRange(model.OutputSpecs);
        return new DecodedRequest { Inputs = byInput, Outputs = outputs, BinaryOutputs = [], Id = request.Id };
    }

    private static int CountContents(InferTensorContents c) =>
        c.BoolContents.Count + c.IntContents.Count + c.Int64Contents.Count + c.UintContents.Count + c.Uint64Contents.Count
        + c.Fp32Contents.Count + c.Fp64Contents.Count + c.BytesContents.Count;

    private static byte[] FromContents(InferTensorContents? c, string datatype, long elements, long bytes, string what)
    {
        if (c is null || (CountContents(c) == 0 && elements > 0))
            throw RestWire.Invalid($"{what} has no contents, and the request has no raw_input_contents.");
        (string field, int count) = datatype switch
        {
            KServeDataTypes.FP32 => ("fp32_contents", c.Fp32Contents.Count),
            KServeDataTypes.Int8 or KServeDataTypes.Int32 => ("int_contents", c.IntContents.Count),
            KServeDataTypes.Int64 => ("int64_contents", c.Int64Contents.Count),
            KServeDataTypes.UInt8 => ("uint_contents", c.UintContents.Count),
            KServeDataTypes.Bool => ("bool_contents", c.BoolContents.Count),
            _ => throw RestWire.Invalid($"{what} is {datatype}, which InferTensorContents has no field for; send it in raw_input_contents."),
        };
        if (count != CountContents(c))
            throw RestWire.Invalid($"{what} is {datatype}: its elements belong in {field} only.");
        if (count != elements)
            throw RestWire.Invalid($"{what} has {count} elements in {field}, but its shape has {elements}.");
        var buffer = new byte[bytes];
        switch (datatype)
        {
            case KServeDataTypes.FP32:
                for (int i = 0; i < count; i++)
                    MemoryMarshal.Write(buffer.AsSpan(i * 4), c.Fp32Contents[i]);
                break;
            case KServeDataTypes.Int32:
                for (int i = 0; i < count; i++)
                    MemoryMarshal.Write(buffer.AsSpan(i * 4), c.IntContents[i]);
                break;
            case KServeDataTypes.Int8:
                for (int i = 0; i < count; i++)
                {
                    int v = c.IntContents[i];
                    if (v is < sbyte.MinValue or > sbyte.MaxValue)
                        throw RestWire.Invalid($"{what} element {i} is {v}, outside INT8's range -128..127.");
                    buffer[i] = (byte)(sbyte)v;
                }

                break;
            case KServeDataTypes.Int64:
                for (int i = 0; i < count; i++)
                    MemoryMarshal.Write(buffer.AsSpan(i * 8), c.Int64Contents[i]);
                break;
            case KServeDataTypes.UInt8:
                for (int i = 0; i < count; i++)
                {
                    uint v = c.UintContents[i];
                    if (v > byte.MaxValue)
                        throw RestWire.Invalid($"{what} element {i} is {v}, outside UINT8's range 0..255.");
                    buffer[i] = (byte)v;
                }

                break;
            case KServeDataTypes.Bool:
                for (int i = 0; i < count; i++)
                    buffer[i] = c.BoolContents[i] ? (byte)1 : (byte)0;
                break;
        }

        return buffer;
    }

    private async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (KServeException ex)
        {
            if (ex.Kind == KServeErrorKind.Internal)
                Log.InferenceFailed(logger, ex.InnerException ?? ex, ex.Message);
            throw new RpcException(new Status(ex.GrpcStatus, ex.Message));
        }
    }
}
