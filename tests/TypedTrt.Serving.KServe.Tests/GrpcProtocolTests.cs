using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using TypedTrt.Runtime.Tests;
using TypedTrt.Serving.KServe.Protocol;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

public sealed class GrpcProtocolTests
{
    [Fact]
    public async Task Health_and_metadata_over_grpc()
    {
        await using var digits = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([digits.Model]);
        Assert.True((await host.Grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await host.Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.True((await host.Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "digits" })).Ready);
        Assert.True((await host.Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "digits", Version = "1" })).Ready);
        var server = await host.Grpc.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("typedtrt", server.Name);
        Assert.Contains("binary_tensor_data", server.Extensions);
        var meta = await host.Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "digits" });
        Assert.Equal("onnxruntime_onnx", meta.Platform);
        Assert.Equal(["1"], meta.Versions);
        Assert.Equal("pixels", meta.Inputs.Single().Name);
        Assert.Equal("FP32", meta.Inputs.Single().Datatype);
        Assert.Equal([-1L, 1, 8, 8], meta.Inputs.Single().Shape);
        Assert.Equal(["logits", "probabilities"], meta.Outputs.Select(o => o.Name));

        digits.Model.IsReady = false;
        Assert.False((await host.Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "digits" })).Ready);
        Assert.False((await host.Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.ModelInferAsync(DigitsRequest(1)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal("Model 'digits' is not ready.", e.Status.Detail);
    }

    internal static ModelInferRequest DigitsRequest(int n, bool typed = false)
    {
        var (pixels, _, _, _) = ServedModel.DigitsExpected();
        var request = new ModelInferRequest { ModelName = "digits", Id = "g-" + n };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "pixels", Datatype = "FP32", Shape = { n, 1, 8, 8 } };
        if (typed)
            input.Contents = new InferTensorContents { Fp32Contents = { pixels.Take(n * 64) } };
        else
            request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(pixels.AsSpan(0, n * 64))));
        request.Inputs.Add(input);
        return request;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(24, false)]
    [InlineData(5, true)]
    public async Task Digits_over_grpc_match_onnxruntime_python(int n, bool typedContents)
    {
        var (_, _, logits, _) = ServedModel.DigitsExpected();
        await using var digits = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([digits.Model]);
        var r = await host.Grpc.ModelInferAsync(DigitsRequest(n, typedContents));
        Assert.Equal("digits", r.ModelName);
        Assert.Equal("1", r.ModelVersion);
        Assert.Equal("g-" + n, r.Id);
        Assert.Equal(["logits", "probabilities"], r.Outputs.Select(o => o.Name));
        Assert.Equal([(long)n, 10], r.Outputs[0].Shape);
        Assert.Equal("FP32", r.Outputs[0].Datatype);
        Assert.Equal(2, r.RawOutputContents.Count);
        float[] got = MemoryMarshal.Cast<byte, float>(r.RawOutputContents[0].Span).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < 10; c++)
                Assert.Equal(logits[i][c], got[i * 10 + c], tolerance: 1e-4);
        }
    }

    [Fact]
    public async Task Every_dtype_round_trips_exactly_over_raw_contents_and_outputs_can_be_selected()
    {
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([echo.Model]);
        var request = new ModelInferRequest { ModelName = "echo" };
        foreach (var (d, dt, _, bytes) in EchoData.All)
        {
            request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "in_" + d, Datatype = dt, Shape = { EchoData.Rows, 3 } });
            request.RawInputContents.Add(ByteString.CopyFrom(bytes));
        }

        var r = await host.Grpc.ModelInferAsync(request);
        Assert.Equal(EchoData.All.Length, r.Outputs.Count);
        for (int i = 0; i < EchoData.All.Length; i++)
        {
            var (d, dt, _, bytes) = EchoData.All[i];
            Assert.Equal("out_" + d, r.Outputs[i].Name);
            Assert.Equal(dt, r.Outputs[i].Datatype);
            Assert.Equal(bytes, r.RawOutputContents[i].ToByteArray());
        }

        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out_bool" });
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out_bf16" });
        r = await host.Grpc.ModelInferAsync(request);
        Assert.Equal(["out_bool", "out_bf16"], r.Outputs.Select(o => o.Name));
        Assert.Equal(EchoData.All.Single(a => a.DType == "bool").Bytes, r.RawOutputContents[0].ToByteArray());
    }

    [Fact]
    public async Task Typed_contents_of_fp32_and_int32_inputs_give_exact_results()
    {
        await using var fake = ServedModel.Fake();
        await using var host = await KServeTestHost.StartAsync([fake.Model]);
        var request = new ModelInferRequest { ModelName = "fake" };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "a", Datatype = "FP32", Shape = { 2, 4 }, Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3, 4, 5, 6, 7, 8 } } });
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "b", Datatype = "INT32", Shape = { 2, 4 }, Contents = new InferTensorContents { IntContents = { 10, 20, 30, 40, -1, -2, -3, -4 } } });
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "k", Datatype = "FP32", Shape = { 1 }, Contents = new InferTensorContents { Fp32Contents = { 0.5f } } });
        var r = await host.Grpc.ModelInferAsync(request);
        Assert.Equal([10.5f, 21, 31.5f, 42, 1.5f, 1, 0.5f, 0], MemoryMarshal.Cast<byte, float>(r.RawOutputContents[0].Span).ToArray());
        Assert.Equal([100L, -10], MemoryMarshal.Cast<byte, long>(r.RawOutputContents[1].Span).ToArray());
        Assert.Equal("INT64", r.Outputs[1].Datatype);
        _ = FakeEngine.Width;
    }
}
