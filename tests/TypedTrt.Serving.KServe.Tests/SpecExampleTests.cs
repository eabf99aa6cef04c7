using System.Runtime.InteropServices;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>
/// The published examples: the Open Inference Protocol's REST inference example (kserve/open-inference-protocol,
/// inference_rest.md, "Inference Request Examples") and Triton's binary tensor data example (extension_binary_data.md).
/// </summary>
public sealed class SpecExampleTests
{
    // the example's model: input0 [2, 2] (UINT32 in the text; TensorRT engines bind INT32), input1 BOOL [3], output0 FP32 [3, 2], output1 INT32 [2, 2]
    private static KServeModel MyModel(List<(long[] Input0, byte[] Input1)> seen)
    {
        var manifest = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "mymodel.engine", new string('3', 64), 1),
            [
                new TensorBinding("input0", TensorMode.Input, "int32", [2, 2]),
                new TensorBinding("input1", TensorMode.Input, "bool", [3]),
                new TensorBinding("output0", TensorMode.Output, "float", [3, 2]),
                new TensorBinding("output1", TensorMode.Output, "int32", [2, 2]),
            ]);
        return new KServeModel("mymodel", manifest, 0, (inputs, _) =>
        {
            var in0 = inputs.Single(i => i.TensorIndex == 0);
            var in1 = inputs.Single(i => i.TensorIndex == 1);
            int[] values = MemoryMarshal.Cast<byte, int>(in0.Data.Span).ToArray();
            lock (seen)
                seen.Add((values.Select(v => (long)v).ToArray(), in1.Data.ToArray()));
            float[] output0 = [1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f];
            int[] output1 = [.. values.Select(v => v + 9)];
            return ValueTask.FromResult(new InferenceResult(
            [
                new InferenceOutput(2, manifest.Tensors[2], [3, 2], MemoryMarshal.AsBytes(output0.AsSpan()).ToArray()),
                new InferenceOutput(3, manifest.Tensors[3], [2, 2], MemoryMarshal.AsBytes(output1.AsSpan()).ToArray()),
            ]));
        });
    }

    private const string PublishedRequest = """
        {
          "id" : "42",
          "inputs" : [
            {
              "name" : "input0",
              "shape" : [ 2, 2 ],
              "datatype" : "UINT32",
              "data" : [ 1, 2, 3, 4 ]
            },
            {
              "name" : "input1",
              "shape" : [ 3 ],
              "datatype" : "BOOL",
              "data" : [ true ]
            }
          ],
          "outputs" : [
            {
              "name" : "output0"
            }
          ]
        }
        """;

    [Fact]
    public async Task The_protocols_rest_example_gets_the_published_response()
    {
        var seen = new List<(long[], byte[])>();
        await using var host = await KServeTestHost.StartAsync([MyModel(seen)]);

        // verbatim, the example asks for UINT32 (which no TensorRT engine binds) and gives 1 BOOL for shape [3]: both are refused by name
        var r = await host.PostAsync("/v2/models/mymodel/infer", PublishedRequest);
        Assert.Equal((400, "Input 'input0' has datatype UINT32; the model takes INT32."), (r.Status, r.Error));
        r = await host.PostAsync("/v2/models/mymodel/infer", PublishedRequest.Replace("UINT32", "INT32", StringComparison.Ordinal));
        Assert.Equal((400, "Input 'input1' has 1 data elements, but shape [3] has 3."), (r.Status, r.Error));
        Assert.Empty(seen);

        r = await host.PostAsync("/v2/models/mymodel/infer", PublishedRequest.Replace("UINT32", "INT32", StringComparison.Ordinal).Replace("[ true ]", "[ true, false, true ]", StringComparison.Ordinal));
        Assert.Equal(200, r.Status);
        Assert.Equal("application/json", r.ContentType);
        // the published response: id "42" and only output0, FP32 [3, 2], data [1.0, 1.1, 2.0, 2.1, 3.0, 3.1]
        Assert.Equal("42", r.Json.RootElement.GetProperty("id").GetString());
        var output = Assert.Single(r.Json.RootElement.GetProperty("outputs").EnumerateArray());
        Assert.Equal("output0", output.GetProperty("name").GetString());
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([3L, 2], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal([1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f], output.GetProperty("data").EnumerateArray().Select(d => d.GetSingle()));
        var (input0, input1) = Assert.Single(seen);
        Assert.Equal([1L, 2, 3, 4], input0);
        Assert.Equal([1, 0, 1], input1);
    }

    [Fact]
    public async Task Tritons_binary_data_example_round_trips()
    {
        var seen = new List<(long[], byte[])>();
        await using var host = await KServeTestHost.StartAsync([MyModel(seen)]);
        // Triton's example: input0 as JSON, input1 (BOOL [3]) as 3 bytes of binary data; output0 as binary, output1 as JSON
        const string Json = """
            {
              "model_name" : "mymodel",
              "inputs" : [
                { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "INT32", "data" : [ 1, 2, 3, 4 ] },
                { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "parameters" : { "binary_data_size" : 3 } }
              ],
              "outputs" : [
                { "name" : "output0", "parameters" : { "binary_data" : true } },
                { "name" : "output1" }
              ]
            }
            """;
        var r = await host.PostAsync("/v2/models/mymodel/infer", Json, [1, 1, 0]);
        Assert.Equal(200, r.Status);
        Assert.Equal("application/octet-stream", r.ContentType);
        var output0 = r.Output("output0");
        Assert.Equal(24, output0.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal([1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f], MemoryMarshal.Cast<byte, float>(r.Binary).ToArray());
        Assert.Equal("[10,11,12,13]", EchoData.Raw(r.Output("output1").GetProperty("data")));
        Assert.Equal([1, 1, 0], Assert.Single(seen).Item2);

        // binary_data_output on the request makes every output binary, and "binary_data": false on one overrides it
        r = await host.PostAsync("/v2/models/mymodel/infer",
            Json.Replace("\"model_name\" : \"mymodel\",", "\"parameters\" : { \"binary_data_output\" : true },", StringComparison.Ordinal)
                .Replace("{ \"name\" : \"output0\", \"parameters\" : { \"binary_data\" : true } }", "{ \"name\" : \"output0\", \"parameters\" : { \"binary_data\" : false } }", StringComparison.Ordinal),
            [1, 1, 0]);
        Assert.Equal(200, r.Status);
        Assert.True(r.Output("output0").TryGetProperty("data", out _));
        Assert.Equal(16, r.Output("output1").GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal([10, 11, 12, 13], MemoryMarshal.Cast<byte, int>(r.Binary).ToArray());
    }
}
