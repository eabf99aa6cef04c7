using Google.Protobuf;
using Grpc.Core;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Tests;
using TypedTrt.Serving.KServe.Protocol;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>Every error path: the protocol's error response (REST status + {"error"}, gRPC status) with a message naming the tensor and what is wrong.</summary>
public sealed class ErrorPathTests
{
    private const string A = "{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}";
    private const string B = "{\"name\":\"b\",\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[1,2,3,4]}";
    private const string K = "{\"name\":\"k\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[2]}";

    private static string Req(params string[] inputs) => $"{{\"inputs\":[{string.Join(",", inputs)}]}}";

    public static TheoryData<string, string, int, string> RestCases() => new()
    {
        { "/v2/models/nope/infer", Req(A, B, K), 404, "Model 'nope' is not served here; models: 'fake'." },
        { "/v2/models/fake/versions/7/infer", Req(A, B, K), 404, "Model 'fake' has no version '7'; the version served is '1'." },
        { "/v2/models/fake/infer", "{\"inputs\":[", 400, "The request's JSON is malformed: " },
        { "/v2/models/fake/infer", "[]", 400, "The request must be a JSON object with \"inputs\"." },
        { "/v2/models/fake/infer", "{}", 400, "The request has no \"inputs\" array." },
        { "/v2/models/fake/infer", "{\"id\":42," + Req(A, B, K)[1..], 400, "The request's \"id\" is 42; it must be a string." },
        { "/v2/models/fake/infer", Req(A, B, K, "{\"name\":\"c\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}"), 400, "Model 'fake' has no input 'c'; its inputs are 'a', 'b', 'k'." },
        { "/v2/models/fake/infer", Req(A.Replace("FP32", "FP64"), B, K), 400, "Input 'a' has datatype FP64; the model takes FP32." },
        { "/v2/models/fake/infer", Req(A.Replace("FP32", "FLOAT32"), B, K), 400, "Input 'a' has datatype FLOAT32 (not a protocol datatype); the model takes FP32." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,4]", "[4]"), B, K), 400, "Input 'a' has shape [4] (rank 1); the model takes rank 2: [-1, 4]." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,4]", "[1,5]"), B, K), 400, "Input 'a' has dimension 1 = 5; the model's shape is [-1, 4]." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,4]", "[9,4]"), B, K), 400, "Input 'a' has dimension 0 ('batch') = 9; it must be within 1..8 (model shape [-1, 4])." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,4]", "[-3,4]"), B, K), 400, "Input 'a' has dimension 0 ('batch') = -3; it must be within 1..8 (model shape [-1, 4])." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,4]", "[1.5,4]"), B, K), 400, "Input 'a' has shape element 0 = 1.5; dimensions are integers." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,2,3,4]", "[1,2,3]"), B, K), 400, "Input 'a' has 3 data elements, but shape [1, 4] has 4." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,2,3,4]", "[1,2,3,4,5]"), B, K), 400, "Input 'a' has more than 4 data elements, but shape [1, 4] has 4." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,2,3,4]", "[\"x\",2,3,4]"), B, K), 400, "Input 'a' element 0 is \"x\"; a FP32 element must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,2,3,4]", "[1,2,1e39,4]"), B, K), 400, "Input 'a' element 2 is 1e39; a FP32 element must be a number within FP32's range." },
        { "/v2/models/fake/infer", Req(A, B.Replace("[1,2,3,4]", "[1,3000000000,3,4]"), K), 400, "Input 'b' element 1 is 3000000000; a INT32 element must be an integer from -2147483648 to 2147483647." },
        { "/v2/models/fake/infer", Req(A, B.Replace("[1,2,3,4]", "[1,2,3.5,4]"), K), 400, "Input 'b' element 2 is 3.5; a INT32 element must be an integer from -2147483648 to 2147483647." },
        { "/v2/models/fake/infer", Req(A, B.Replace("[1,2,3,4]", "[1,2,true,4]"), K), 400, "Input 'b' element 2 is true; a INT32 element must be an integer" },
        { "/v2/models/fake/infer", Req(A, A, B, K), 400, "Input 'a' is given twice." },
        { "/v2/models/fake/infer", Req(A, B), 400, "Model 'fake' needs input 'k' (FP32 [1]); the request does not give it." },
        { "/v2/models/fake/infer", "{\"inputs\":[" + A + "," + B + "," + K + "],\"outputs\":[{\"name\":\"z\"}]}", 400, "Model 'fake' has no output 'z'; its outputs are 'y', 'rowsum'." },
        { "/v2/models/fake/infer", "{\"inputs\":[" + A + "," + B + "," + K + "],\"outputs\":[{\"name\":\"y\"},{\"name\":\"y\"}]}", 400, "Output 'y' is requested twice." },
        { "/v2/models/fake/infer", "{\"inputs\":[" + A + "," + B + "," + K + "],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":2}}]}", 400, "Output 'y' asks for the classification extension, which this server does not implement." },
        { "/v2/models/fake/infer", "{\"inputs\":[" + A + "," + B + "," + K + "],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":\"yes\"}}]}", 400, "Output 'y' has parameter binary_data = \"yes\"; it must be true or false." },
        { "/v2/models/fake/infer", "{\"parameters\":{\"binary_data_output\":1}," + Req(A, B, K)[1..], 400, "The request has parameter binary_data_output = 1; it must be true or false." },
        { "/v2/models/fake/infer", Req(A.Replace("\"data\":[1,2,3,4]", "\"data\":[1,2,3,4],\"parameters\":{\"binary_data_size\":16}"), B, K), 400, "Input 'a' has both \"data\" and binary_data_size; give one." },
        { "/v2/models/fake/infer", Req(A.Replace(",\"data\":[1,2,3,4]", ""), B, K), 400, "Input 'a' has no \"data\" (and no binary_data_size parameter for binary data)." },
        { "/v2/models/fake/infer", Req(A.Replace(",\"data\":[1,2,3,4]", ",\"parameters\":{\"binary_data_size\":-1}"), B, K), 400, "Input 'a' has binary_data_size = -1; it must be a byte count (an integer, 0 or more)." },
        { "/v2/models/fake/infer", Req("{\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}"), 400, "input 0 has no \"name\" string." },
        { "/v2/models/fake/infer", Req("{\"name\":\"a\",\"shape\":[1],\"data\":[1]}"), 400, "Input 'a' has no \"datatype\" string (FP32, INT64, ...)." },
        { "/v2/models/fake/infer", Req("{\"name\":\"a\",\"datatype\":\"FP32\",\"data\":[1]}"), 400, "Input 'a' has no \"shape\" array." },
        { "/v2/models/fake/infer", Req("7"), 400, "input 0 is number; it must be an object with name, shape, datatype and data." },
        { "/v2/models/fake/infer", Req(A.Replace("[1,2,3,4]", "[-12345,2,3,4]"), B, K), 500, "Model 'fake' failed to run the request: Injected failure: a[0] is the fail value." },
        { "/v2/models/nope", "", 404, "Model 'nope' is not served here; models: 'fake'." },
        { "/v2/models/nope/ready", "", 404, "Model 'nope' is not served here; models: 'fake'." },
        { "/v2/models/fake/versions/2", "", 404, "Model 'fake' has no version '2'; the version served is '1'." },
    };

    [Theory]
    [MemberData(nameof(RestCases))]
    public async Task Rest_errors_name_the_tensor_and_what_is_wrong(string path, string json, int status, string message)
    {
        await using var fake = ServedModel.Fake();
        await using var host = await KServeTestHost.StartAsync([fake.Model]);
        string error;
        int got;
        if (path.EndsWith("/infer", StringComparison.Ordinal))
        {
            var r = await host.PostAsync(path, json);
            (got, error) = (r.Status, r.Error);
            Assert.Equal("application/json", r.ContentType);
        }
        else
        {
            var (s, doc) = await host.GetAsync(path);
            (got, error) = (s, doc.RootElement.GetProperty("error").GetString()!);
        }

        Assert.Equal(status, got);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    private static byte[] Floats(params float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    private static string BinaryA(int size) => $"{{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,4],\"parameters\":{{\"binary_data_size\":{size}}}}}";

    [Fact]
    public async Task Binary_data_sizes_that_disagree_with_the_shape_or_the_body_are_refused()
    {
        await using var fake = ServedModel.Fake();
        await using var host = await KServeTestHost.StartAsync([fake.Model]);
        byte[] a = Floats(1, 2, 3, 4);

        var r = await host.PostAsync("/v2/models/fake/infer", Req(BinaryA(12), B, K), a[..12]);
        Assert.Equal((400, "Input 'a' declares binary_data_size = 12, but FP32 [1, 4] is 16 bytes."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/fake/infer", Req(BinaryA(16), B, K), a[..8]);
        Assert.Equal((400, "Input 'a' declares 16 bytes of binary data at offset 0, but the body has only 8 bytes after the JSON header (Inference-Header-Content-Length)."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/fake/infer", Req(BinaryA(16), B, K), [.. a, 9, 9, 9]);
        Assert.Equal((400, "The body has 3 bytes of binary data after the JSON header that no input claims (the inputs' binary_data_size add up to 16 of 19)."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/fake/infer", Req(BinaryA(16), B, K), a, headerLength: 100_000);
        Assert.Equal(400, r.Status);
        Assert.StartsWith("Inference-Header-Content-Length is '100000'; it must be the byte length of the JSON header, 0 to the body's ", r.Error, StringComparison.Ordinal);

        // binary data without the header: the bytes are read as JSON
        r = await host.PostAsync("/v2/models/fake/infer", Req(BinaryA(16), B, K) + "\u0001\u0002");
        Assert.Equal(400, r.Status);
        Assert.StartsWith("The request's JSON is malformed", r.Error, StringComparison.Ordinal);

        // and the right sizes work, with the binary input between two JSON ones
        r = await host.PostAsync("/v2/models/fake/infer", Req(B, BinaryA(16), K), a);
        Assert.Equal(200, r.Status);
        Assert.Equal("[3,6,9,12]", EchoData.Raw(r.Output("y").GetProperty("data")));
    }

    [Fact]
    public async Task Payload_limits_refuse_large_bodies_json_ranks_and_tensor_counts()
    {
        await using var fake = ServedModel.Fake();
        await using var host = await KServeTestHost.StartAsync([fake.Model], o =>
        {
            o.Limits.MaxMessageBytes = 4096;
            o.Limits.MaxJsonBytes = 1024;
            o.Limits.MaxRank = 3;
            o.Limits.MaxTensors = 3;
        });

        var r = await host.PostAsync("/v2/models/fake/infer", Req(A, B, K) + new string(' ', 5000));
        Assert.Equal(413, r.Status);
        Assert.StartsWith("The request body is 5", r.Error, StringComparison.Ordinal);
        Assert.EndsWith("bytes; at most 4096 are accepted.", r.Error, StringComparison.Ordinal);

        r = await host.PostAsync("/v2/models/fake/infer", Req(A, B, K) + new string(' ', 2000));
        Assert.Equal((413, $"The request's JSON is {Req(A, B, K).Length + 2000} bytes; at most 1024 are accepted (send large tensors as binary data)."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/fake/infer", Req(A.Replace("[1,4]", "[1,1,1,4]"), B, K));
        Assert.Equal((413, "Input 'a' has 4 dimensions; at most 3 are accepted."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/fake/infer", Req(A, B, K, K));
        Assert.Equal((413, "The request has 4 inputs; at most 3 are accepted."), (r.Status, r.Error));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.ModelInferAsync(new ModelInferRequest
        {
            ModelName = "fake",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "a", Datatype = "FP32", Shape = { 1, 4 } } },
            RawInputContents = { ByteString.CopyFrom(new byte[8000]) },
        }));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    /// <summary>A model whose profile admits huge shapes (the handler never runs): only the limits stand between a claim and an allocation.</summary>
    internal static KServeModel HugeModel()
    {
        var manifest = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "huge.engine", new string('2', 64), 1),
            [new TensorBinding("x", TensorMode.Input, "float", [-1, 4], ["n", ""]), new TensorBinding("y", TensorMode.Output, "float", [-1, 4], ["n", ""])],
            [new OptimizationProfile([new ProfileShape("x", [1, 4], [1, 4], [long.MaxValue / 4, 4])])]);
        return new KServeModel("huge", manifest, 0, (_, _) => throw new InvalidOperationException("must not run"));
    }

    [Fact]
    public async Task Huge_shapes_are_refused_without_allocating_what_they_claim()
    {
        await using var host = await KServeTestHost.StartAsync([HugeModel()]);
        const int Rows = 3_000_000; // 48 MB of FP32, within the default 64 MiB tensor limit

        var r = await host.PostAsync("/v2/models/huge/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1099511627776,4],\"data\":[1]}]}");
        Assert.Equal((413, "Input 'x' has shape [1099511627776, 4], more than the 16777216 elements a tensor may have."), (r.Status, r.Error));

        r = await host.PostAsync("/v2/models/huge/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2305843009213693951,4],\"data\":[1]}]}");
        Assert.Equal((413, "Input 'x' has shape [2305843009213693951, 4], more than the 16777216 elements a tensor may have."), (r.Status, r.Error));

        long before = GC.GetTotalAllocatedBytes(precise: true);
        r = await host.PostAsync("/v2/models/huge/infer", $"{{\"inputs\":[{{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[{Rows},4],\"data\":[1,2,3]}}]}}");
        Assert.Equal((400, $"Input 'x' has 3 data elements, but shape [{Rows}, 4] has {Rows * 4}."), (r.Status, r.Error));
        r = await host.PostAsync("/v2/models/huge/infer", $"{{\"inputs\":[{{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[{Rows},4],\"parameters\":{{\"binary_data_size\":{Rows * 16}}}}}]}}", new byte[16]);
        Assert.Equal((400, $"Input 'x' declares {Rows * 16} bytes of binary data at offset 0, but the body has only 16 bytes after the JSON header (Inference-Header-Content-Length)."), (r.Status, r.Error));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.ModelInferAsync(new ModelInferRequest
        {
            ModelName = "huge",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { Rows, 4 } } },
            RawInputContents = { ByteString.CopyFrom(new byte[16]) },
        }));
        Assert.Equal((StatusCode.InvalidArgument, $"Input 'x' has 16 bytes of raw_input_contents, but FP32 [{Rows}, 4] is {Rows * 16} bytes."), (e.StatusCode, e.Status.Detail));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        // three claims of 48 MB each; whatever else ran in parallel, nothing near one claim was allocated
        Assert.True(allocated < 24_000_000, $"{allocated} bytes were allocated while refusing claims of {Rows * 16} bytes.");
    }

    public static TheoryData<string, StatusCode, string> GrpcCases() => new()
    {
        { "unknown-model", StatusCode.NotFound, "Model 'nope' is not served here; models: 'fake'." },
        { "unknown-version", StatusCode.NotFound, "Model 'fake' has no version '3'; the version served is '1'." },
        { "raw-count", StatusCode.InvalidArgument, "The request has 2 raw_input_contents entries for 3 inputs; give one per input, in the order of inputs." },
        { "raw-size", StatusCode.InvalidArgument, "Input 'a' has 12 bytes of raw_input_contents, but FP32 [1, 4] is 16 bytes." },
        { "raw-and-contents", StatusCode.InvalidArgument, "Input 'a' has contents, but the request also uses raw_input_contents; use one or the other for all inputs." },
        { "no-contents", StatusCode.InvalidArgument, "Input 'a' has no contents, and the request has no raw_input_contents." },
        { "wrong-field", StatusCode.InvalidArgument, "Input 'a' is FP32: its elements belong in fp32_contents only." },
        { "contents-count", StatusCode.InvalidArgument, "Input 'b' has 3 elements in int_contents, but its shape has 4." },
        { "datatype", StatusCode.InvalidArgument, "Input 'b' has datatype INT64; the model takes INT32." },
        { "missing", StatusCode.InvalidArgument, "Model 'fake' needs input 'k' (FP32 [1]); the request does not give it." },
        { "unknown-output", StatusCode.InvalidArgument, "Model 'fake' has no output 'q'; its outputs are 'y', 'rowsum'." },
        { "range", StatusCode.InvalidArgument, "Input 'a' has dimension 0 ('batch') = 0; it must be within 1..8 (model shape [-1, 4])." },
        { "engine-failure", StatusCode.Internal, "Model 'fake' failed to run the request: Injected failure: a[0] is the fail value." },
    };

    [Theory]
    [MemberData(nameof(GrpcCases))]
    public async Task Grpc_errors_are_status_codes_with_the_same_messages(string @case, StatusCode code, string message)
    {
        await using var fake = ServedModel.Fake();
        await using var host = await KServeTestHost.StartAsync([fake.Model]);
        var request = new ModelInferRequest { ModelName = "fake" };
        var a = new ModelInferRequest.Types.InferInputTensor { Name = "a", Datatype = "FP32", Shape = { 1, 4 }, Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3, 4 } } };
        var b = new ModelInferRequest.Types.InferInputTensor { Name = "b", Datatype = "INT32", Shape = { 1, 4 }, Contents = new InferTensorContents { IntContents = { 1, 2, 3, 4 } } };
        var k = new ModelInferRequest.Types.InferInputTensor { Name = "k", Datatype = "FP32", Shape = { 1 }, Contents = new InferTensorContents { Fp32Contents = { 2 } } };
        request.Inputs.Add(a);
        request.Inputs.Add(b);
        request.Inputs.Add(k);
        void Raw(params byte[][] parts)
        {
            foreach (var t in request.Inputs)
                t.Contents = null;
            foreach (var p in parts)
                request.RawInputContents.Add(ByteString.CopyFrom(p));
        }

        switch (@case)
        {
            case "unknown-model": request.ModelName = "nope"; break;
            case "unknown-version": request.ModelVersion = "3"; break;
            case "raw-count": Raw(Floats(1, 2, 3, 4), new byte[16]); break;
            case "raw-size": Raw(new byte[12], new byte[16], new byte[4]); break;
            case "raw-and-contents": request.RawInputContents.Add(ByteString.CopyFrom(new byte[16])); request.RawInputContents.Add(ByteString.CopyFrom(new byte[16])); request.RawInputContents.Add(ByteString.CopyFrom(new byte[4])); break;
            case "no-contents": a.Contents = null; break;
            case "wrong-field": a.Contents.IntContents.Add(5); break;
            case "contents-count": b.Contents.IntContents.RemoveAt(0); break;
            case "datatype": b.Datatype = "INT64"; break;
            case "missing": request.Inputs.RemoveAt(2); break;
            case "unknown-output": request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "q" }); break;
            case "range": a.Shape[0] = 0; a.Contents.Fp32Contents.Clear(); break;
            case "engine-failure": a.Contents.Fp32Contents[0] = FakeEngine.FailValue; break;
        }

        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.ModelInferAsync(request));
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(message, e.Status.Detail);
        // the server stays healthy
        request = GrpcProtocolTestsRequests.Valid();
        Assert.Equal(2, (await host.Grpc.ModelInferAsync(request)).Outputs.Count);
    }

    [Fact]
    public async Task Fp16_inputs_must_travel_as_raw_contents_over_grpc()
    {
        await using var model = ServedModel.Onnx("fp16", ServedModel.TestModel("fp16_io.onnx"), "batch=1..8:2");
        await using var host = await KServeTestHost.StartAsync([model.Model]);
        var request = new ModelInferRequest { ModelName = "fp16" };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP16", Shape = { 1, 16 }, Contents = new InferTensorContents { Fp32Contents = { new float[16] } } });
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.ModelInferAsync(request));
        Assert.Equal((StatusCode.InvalidArgument, "Input 'input' is FP16, which InferTensorContents has no field for; send it in raw_input_contents."), (e.StatusCode, e.Status.Detail));
    }
}

internal static class GrpcProtocolTestsRequests
{
    public static ModelInferRequest Valid() => new()
    {
        ModelName = "fake",
        Inputs =
        {
            new ModelInferRequest.Types.InferInputTensor { Name = "a", Datatype = "FP32", Shape = { 1, 4 }, Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3, 4 } } },
            new ModelInferRequest.Types.InferInputTensor { Name = "b", Datatype = "INT32", Shape = { 1, 4 }, Contents = new InferTensorContents { IntContents = { 1, 2, 3, 4 } } },
            new ModelInferRequest.Types.InferInputTensor { Name = "k", Datatype = "FP32", Shape = { 1 }, Contents = new InferTensorContents { Fp32Contents = { 2 } } },
        },
    };
}
