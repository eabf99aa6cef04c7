using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TypedTrt.Inspection;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

public sealed class RestProtocolTests
{
    [Fact]
    public async Task Health_and_server_metadata_answer_as_the_protocol_says()
    {
        await using var digits = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([digits.Model]);

        var (status, live) = await host.GetAsync("/v2/health/live");
        Assert.Equal(200, status);
        Assert.True(live.RootElement.GetProperty("live").GetBoolean());

        (status, var ready) = await host.GetAsync("/v2/health/ready");
        Assert.Equal(200, status);
        Assert.True(ready.RootElement.GetProperty("ready").GetBoolean());

        (status, var meta) = await host.GetAsync("/v2");
        Assert.Equal(200, status);
        Assert.Equal("typedtrt", meta.RootElement.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(meta.RootElement.GetProperty("version").GetString()));
        Assert.Contains("binary_tensor_data", meta.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));

        (status, var modelReady) = await host.GetAsync("/v2/models/digits/ready");
        Assert.Equal(200, status);
        Assert.Equal("digits", modelReady.RootElement.GetProperty("name").GetString());
        Assert.True(modelReady.RootElement.GetProperty("ready").GetBoolean());
        (status, _) = await host.GetAsync("/v2/models/digits/versions/1/ready");
        Assert.Equal(200, status);

        // a model that drains is not ready, and neither is the server
        digits.Model.IsReady = false;
        (status, modelReady) = await host.GetAsync("/v2/models/digits/ready");
        Assert.Equal(503, status);
        Assert.False(modelReady.RootElement.GetProperty("ready").GetBoolean());
        (status, ready) = await host.GetAsync("/v2/health/ready");
        Assert.Equal(503, status);
        Assert.False(ready.RootElement.GetProperty("ready").GetBoolean());
        var refused = await host.PostAsync("/v2/models/digits/infer", DigitsJson(1));
        Assert.Equal(503, refused.Status);
        Assert.Equal("Model 'digits' is not ready.", refused.Error);
    }

    [Fact]
    public async Task Model_metadata_comes_from_the_manifest_for_every_test_model()
    {
        await using var digits = ServedModel.Digits();
        await using var fp16 = ServedModel.Onnx("fp16", ServedModel.TestModel("fp16_io.onnx"), "batch=1..8:2");
        await using var int64 = ServedModel.Onnx("int64", ServedModel.TestModel("int64_io.onnx"), "batch=1..4:2,sequence=1..16:8");
        await using var uint8 = ServedModel.Onnx("uint8_bool", ServedModel.TestModel("uint8_bool.onnx"));
        // multi_io has an unnamed dynamic dim (no profile range, so no runner): metadata only
        var multi = new KServeModel("multi", ModelInspector.Inspect(ServedModel.TestModel("multi_io.onnx")), 0, (_, _) => throw new NotSupportedException());
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([digits.Model, fp16.Model, int64.Model, uint8.Model, multi, echo.Model]);

        async Task<string> Describe(string path)
        {
            var (status, doc) = await host.GetAsync(path);
            Assert.Equal(200, status);
            var r = doc.RootElement;
            string T(JsonElement list) => string.Join(" ", list.EnumerateArray().Select(t =>
                $"{t.GetProperty("name").GetString()}:{t.GetProperty("datatype").GetString()}[{string.Join(",", t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]"));
            return $"{r.GetProperty("name").GetString()} v{string.Join(",", r.GetProperty("versions").EnumerateArray().Select(v => v.GetString()))} {r.GetProperty("platform").GetString()} | {T(r.GetProperty("inputs"))} | {T(r.GetProperty("outputs"))}";
        }

        Assert.Equal("digits v1 onnxruntime_onnx | pixels:FP32[-1,1,8,8] | logits:FP32[-1,10] probabilities:FP32[-1,10]", await Describe("/v2/models/digits"));
        Assert.Equal("digits v1 onnxruntime_onnx | pixels:FP32[-1,1,8,8] | logits:FP32[-1,10] probabilities:FP32[-1,10]", await Describe("/v2/models/digits/versions/1"));
        Assert.Equal("fp16 v1 onnxruntime_onnx | input:FP16[-1,16] | output:FP16[-1,4]", await Describe("/v2/models/fp16"));
        Assert.Equal("int64 v1 onnxruntime_onnx | input_ids:INT64[-1,-1] | logits:FP32[-1,-1,5] argmax:INT64[-1,-1]", await Describe("/v2/models/int64"));
        Assert.Equal("uint8_bool v1 onnxruntime_onnx | image:UINT8[1,3,16,16] | mask:BOOL[1,2,16,16] score:FP32[1,2]", await Describe("/v2/models/uint8_bool"));
        Assert.Equal("multi v1 onnxruntime_onnx | images/rgb:0:FP32[-1,3,-1,-1] scale.factor:FP32[] extra/feat.v1:0:FP32[-1,-1,6] | out/boxes:0:FP32[-1,4] out.scores:FP32[-1,4] total:sum:FP32[]", await Describe("/v2/models/multi"));
        Assert.Equal(
            "echo v1 tensorrt_plan | in_float:FP32[-1,3] in_half:FP16[-1,3] in_bf16:BF16[-1,3] in_int8:INT8[-1,3] in_int32:INT32[-1,3] in_int64:INT64[-1,3] in_uint8:UINT8[-1,3] in_bool:BOOL[-1,3]"
            + " | out_float:FP32[-1,3] out_half:FP16[-1,3] out_bf16:BF16[-1,3] out_int8:INT8[-1,3] out_int32:INT32[-1,3] out_int64:INT64[-1,3] out_uint8:UINT8[-1,3] out_bool:BOOL[-1,3]",
            await Describe("/v2/models/echo"));
    }

    internal static string DigitsJson(int n, int offset = 0, string? id = null, string extra = "")
    {
        var (pixels, _, _, _) = ServedModel.DigitsExpected();
        var data = string.Join(",", pixels.Skip(offset * 64).Take(n * 64).Select(p => p.ToString("R", CultureInfo.InvariantCulture)));
        string idPart = id is null ? "" : $"\"id\":\"{id}\",";
        return $"{{{idPart}\"inputs\":[{{\"name\":\"pixels\",\"shape\":[{n},1,8,8],\"datatype\":\"FP32\",\"data\":[{data}]}}]{extra}}}";
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(24)]
    public async Task Digits_over_json_match_onnxruntime_python_at_every_batch_size(int n)
    {
        var (_, _, logits, probabilities) = ServedModel.DigitsExpected();
        await using var digits = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([digits.Model]);

        var r = await host.PostAsync("/v2/models/digits/infer", DigitsJson(n, id: "req-" + n));
        Assert.Equal(200, r.Status);
        Assert.Equal("application/json", r.ContentType);
        Assert.Equal("digits", r.Json.RootElement.GetProperty("model_name").GetString());
        Assert.Equal("1", r.Json.RootElement.GetProperty("model_version").GetString());
        Assert.Equal("req-" + n, r.Json.RootElement.GetProperty("id").GetString());
        var l = r.Output("logits");
        Assert.Equal("FP32", l.GetProperty("datatype").GetString());
        Assert.Equal([n, 10], l.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        float[] got = l.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        float[] gotP = r.Output("probabilities").GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < 10; c++)
            {
                Assert.Equal(logits[i][c], got[i * 10 + c], tolerance: 1e-4);
                Assert.Equal(probabilities[i][c], gotP[i * 10 + c], tolerance: 1e-5);
            }

            Assert.Equal(Argmax(logits[i], 0), Argmax(got, i));
        }
    }

    private static int Argmax(float[] values, int row)
    {
        int best = 0;
        for (int c = 1; c < 10; c++)
        {
            if (values[row * 10 + c] > values[row * 10 + best])
                best = c;
        }

        return best;
    }

    [Fact]
    public async Task Digits_over_binary_data_give_the_same_bytes_as_the_in_process_runner()
    {
        var (pixels, _, _, _) = ServedModel.DigitsExpected();
        await using var digits = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([digits.Model]);
        int n = 24;
        byte[] input = MemoryMarshal.AsBytes(pixels.AsSpan(0, n * 64)).ToArray();
        string json = $"{{\"inputs\":[{{\"name\":\"pixels\",\"shape\":[{n},1,8,8],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{input.Length}}}}}],"
            + "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}},{\"name\":\"logits\"}]}";
        var r = await host.PostAsync("/v2/models/digits/infer", json, input);
        Assert.Equal(200, r.Status);
        Assert.Equal("application/octet-stream", r.ContentType);
        var outputs = r.Json.RootElement.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(["probabilities", "logits"], outputs.Select(o => o.GetProperty("name").GetString()));
        Assert.Equal(n * 10 * 4, r.Output("probabilities").GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.False(r.Output("probabilities").TryGetProperty("data", out _));
        Assert.Equal(n * 10 * 4, r.Binary.Length);

        var local = await digits.Runner.RunAsync([new Runtime.InferenceInput(0, input, new long[] { n, 1, 8, 8 })]);
        Assert.Equal(local.GetOutput("probabilities").Data.ToArray(), r.Binary);
        float[] jsonLogits = r.Output("logits").GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(local.GetOutput("logits").ToArray<float>(), jsonLogits);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Every_dtype_round_trips_exactly(bool binaryInputs, bool binaryOutputs)
    {
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([echo.Model]);
        var (json, binary) = EchoData.Request(binaryInputs, binaryOutputs);
        var r = await host.PostAsync("/v2/models/echo/infer", json, binary);
        Assert.True(r.Status == 200, r.Json.RootElement.GetRawText());
        Assert.Equal("echo-1", r.Json.RootElement.GetProperty("id").GetString());
        int offset = 0;
        foreach (var (d, dt, dataJson, bytes) in EchoData.All)
        {
            var o = r.Output("out_" + d);
            Assert.Equal(dt, o.GetProperty("datatype").GetString());
            Assert.Equal([EchoData.Rows, 3], o.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            if (binaryOutputs)
                Assert.Equal(bytes, EchoData.OutputBytes(r, "out_" + d, ref offset));
            else
                Assert.Equal(dataJson, EchoData.Raw(o.GetProperty("data")));
        }

        Assert.Equal(binaryOutputs ? EchoData.All.Sum(a => a.Bytes.Length) : 0, r.Binary.Length);
    }

    [Fact]
    public async Task Nested_json_data_and_non_finite_floats_are_accepted()
    {
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([echo.Model]);
        var (json, _) = EchoData.Request(binaryInputs: false, binaryOutputs: false);
        json = json.Replace("[1.5,-2.25,3.4028235E+38,0,-0,1E-45]", "[[1.5,\"NaN\",\"Infinity\"],[\"-Infinity\",-0,1E-45]]", StringComparison.Ordinal);
        var r = await host.PostAsync("/v2/models/echo/infer", json);
        Assert.Equal(200, r.Status);
        Assert.Equal("[1.5,\"NaN\",\"Infinity\",\"-Infinity\",-0,1E-45]", EchoData.Raw(r.Output("out_float").GetProperty("data")));
    }

    [Fact]
    public async Task Dynamic_shapes_of_two_dims_run_on_a_real_model()
    {
        await using var int64 = ServedModel.Onnx("int64", ServedModel.TestModel("int64_io.onnx"), "batch=1..4:2,sequence=1..16:8");
        await using var host = await KServeTestHost.StartAsync([int64.Model]);

        foreach (var (b, s) in new[] { (1, 1), (3, 5), (4, 16) })
        {
            var ids = Enumerable.Range(0, b * s).Select(i => (long)(i % 7)).ToArray();
            var r = await host.PostAsync("/v2/models/int64/infer",
                $"{{\"inputs\":[{{\"name\":\"input_ids\",\"shape\":[{b},{s}],\"datatype\":\"INT64\",\"data\":[{string.Join(",", ids)}]}}]}}");
            Assert.Equal(200, r.Status);
            Assert.Equal([b, s, 5], r.Output("logits").GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            Assert.Equal([b, s], r.Output("argmax").GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            var local = await int64.Runner.RunAsync([Runtime.InferenceInput.Create<long>(0, ids, [b, s])]);
            Assert.Equal(local.GetOutput("argmax").ToArray<long>(), r.Output("argmax").GetProperty("data").EnumerateArray().Select(x => x.GetInt64()));
        }
    }

    [Fact]
    public async Task Uint8_in_and_bool_out_of_a_real_model_match_the_in_process_runner()
    {
        await using var model = ServedModel.Onnx("uint8_bool", ServedModel.TestModel("uint8_bool.onnx"));
        await using var host = await KServeTestHost.StartAsync([model.Model]);
        byte[] image = Enumerable.Range(0, 3 * 16 * 16).Select(i => (byte)(i * 37 % 256)).ToArray();
        var r = await host.PostAsync("/v2/models/uint8_bool/infer",
            $"{{\"inputs\":[{{\"name\":\"image\",\"shape\":[1,3,16,16],\"datatype\":\"UINT8\",\"data\":[{string.Join(",", image)}]}}]}}");
        Assert.Equal(200, r.Status);
        var local = await model.Runner.RunAsync([new Runtime.InferenceInput(0, image)]);
        var mask = r.Output("mask");
        Assert.Equal("BOOL", mask.GetProperty("datatype").GetString());
        Assert.Equal(local.GetOutput("mask").Data.ToArray().Select(b => b != 0), mask.GetProperty("data").EnumerateArray().Select(v => v.GetBoolean()));
        Assert.Contains(mask.GetProperty("data").EnumerateArray(), v => v.GetBoolean());
        Assert.Contains(mask.GetProperty("data").EnumerateArray(), v => !v.GetBoolean());
    }

    [Fact]
    public async Task Fp16_model_takes_json_numbers_and_binary_halves()
    {
        await using var model = ServedModel.Onnx("fp16", ServedModel.TestModel("fp16_io.onnx"), "batch=1..8:2");
        await using var host = await KServeTestHost.StartAsync([model.Model]);
        var values = Enumerable.Range(0, 3 * 16).Select(i => (Half)((i % 9 - 4) / 4f)).ToArray();
        var local = await model.Runner.RunAsync([Runtime.InferenceInput.Create<Half>(0, values, [3, 16])]);

        var r = await host.PostAsync("/v2/models/fp16/infer",
            $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[3,16],\"datatype\":\"FP16\",\"data\":[{string.Join(",", values.Select(v => ((float)v).ToString(CultureInfo.InvariantCulture)))}]}}],"
            + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}");
        Assert.Equal(200, r.Status);
        Assert.Equal(local.GetOutput("output").Data.ToArray(), r.Binary);
    }
}
