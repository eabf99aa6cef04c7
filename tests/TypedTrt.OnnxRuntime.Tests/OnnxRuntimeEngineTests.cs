using System.Runtime.InteropServices;
using System.Text.Json;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.OnnxRuntime.Tests;

public sealed unsafe class OnnxRuntimeEngineTests
{
    private static readonly string ModelPath = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");

    internal static BindingManifest DigitsSignature(string inputDtype = "float", long classes = 10, bool dropProbabilities = false, bool extraInput = false)
    {
        var tensors = new List<TensorBinding>
        {
            new("pixels", TensorMode.Input, inputDtype, [-1, 1, 8, 8], ["batch", "", "", ""]),
            new("logits", TensorMode.Output, "float", [-1, classes], ["batch", ""]),
        };
        if (!dropProbabilities)
            tensors.Add(new("probabilities", TensorMode.Output, "float", [-1, 10], ["batch", ""]));
        if (extraInput)
            tensors.Add(new("temperature", TensorMode.Input, "float", []));
        var source = new ModelSource(ModelKind.Onnx, "digits.onnx", new string('0', 64), 1);
        var profile = new OptimizationProfile([new ProfileShape("pixels", [1, 1, 8, 8], [8, 1, 8, 8], [32, 1, 8, 8])]);
        return new BindingManifest(source, tensors, [profile]);
    }

    private sealed class HostBuffers : IDisposable
    {
        public readonly nint[] Address;
        public readonly long[] Capacity;

        public HostBuffers(params long[] capacities)
        {
            Capacity = capacities;
            Address = capacities.Select(c => (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(c, 1), 256)).ToArray();
        }

        public Span<float> Floats(int i) => new((void*)Address[i], (int)(Capacity[i] / 4));

        public void Dispose()
        {
            foreach (var a in Address)
                NativeMemory.AlignedFree((void*)a);
        }
    }

    private static (float[] Pixels, int[] Labels, float[][] Logits, float[][] Probabilities) Expected()
    {
        using var samples = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "models", "samples.json")));
        using var expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "models", "expected.json")));
        var items = samples.RootElement.GetProperty("samples").EnumerateArray().ToArray();
        float[] pixels = items.SelectMany(s => s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f)).ToArray();
        int[] labels = items.Select(s => s.GetProperty("label").GetInt32()).ToArray();
        float[][] Rows(string name) => expected.RootElement.GetProperty(name).EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        return (pixels, labels, Rows("logits"), Rows("probabilities"));
    }

    [Fact]
    public void Runs_the_real_model_and_matches_onnxruntime_python_outputs_for_every_sample()
    {
        var (pixels, labels, logits, probabilities) = Expected();
        int n = labels.Length;
        using var engine = OnnxRuntimeEngine.Load(ModelPath, DigitsSignature());
        Assert.Equal(BufferPlacement.Host, engine.Placement);
        using var context = engine.CreateContext();
        using var buffers = new HostBuffers(32 * 64 * 4, 32 * 10 * 4, 32 * 10 * 4);
        for (int i = 0; i < 3; i++)
            context.SetTensorAddress(i, buffers.Address[i], buffers.Capacity[i]);
        pixels.CopyTo(buffers.Floats(0));
        buffers.Floats(1).Fill(float.NaN);
        buffers.Floats(2).Fill(float.NaN);
        context.SetInputShape(0, [n, 1, 8, 8]);
        context.Enqueue(0);

        Span<long> shape = stackalloc long[2];
        Assert.Equal(2, context.GetTensorShape(1, shape));
        Assert.Equal([n, 10], shape.ToArray());
        for (int s = 0; s < n; s++)
        {
            var row = buffers.Floats(1).Slice(s * 10, 10);
            var prob = buffers.Floats(2).Slice(s * 10, 10);
            for (int c = 0; c < 10; c++)
            {
                Assert.Equal(logits[s][c], row[c], 1e-3f);
                Assert.Equal(probabilities[s][c], prob[c], 1e-4f);
            }

            Assert.Equal(labels[s], row.IndexOf(MaxOf(row)));
        }
    }

    [Fact]
    public void Changing_batch_size_between_runs_rebinds_and_gives_per_row_identical_results()
    {
        var (pixels, _, logits, _) = Expected();
        using var engine = OnnxRuntimeEngine.Load(ModelPath, DigitsSignature());
        using var context = engine.CreateContext();
        using var buffers = new HostBuffers(32 * 64 * 4, 32 * 10 * 4, 32 * 10 * 4);
        for (int i = 0; i < 3; i++)
            context.SetTensorAddress(i, buffers.Address[i], buffers.Capacity[i]);
        Span<long> shape = stackalloc long[2];
        foreach (int batch in new[] { 1, 5, 24, 3 })
        {
            pixels.AsSpan(0, batch * 64).CopyTo(buffers.Floats(0));
            buffers.Floats(1).Fill(float.NaN);
            context.SetInputShape(0, [batch, 1, 8, 8]);
            context.Enqueue(0);
            context.GetTensorShape(1, shape);
            Assert.Equal(batch, shape[0]);
            for (int s = 0; s < batch; s++)
                Assert.Equal(logits[s][7], buffers.Floats(1)[s * 10 + 7], 1e-3f);
            Assert.True(float.IsNaN(buffers.Floats(1)[batch * 10]), "rows past the batch must stay untouched");
        }
    }

    [Fact]
    public void Contexts_run_concurrently_on_one_session_without_cross_talk()
    {
        var (pixels, labels, logits, _) = Expected();
        using var engine = OnnxRuntimeEngine.Load(ModelPath, DigitsSignature());
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            using var context = engine.CreateContext();
            using var buffers = new HostBuffers(64 * 4, 10 * 4, 10 * 4);
            for (int i = 0; i < 3; i++)
                context.SetTensorAddress(i, buffers.Address[i], buffers.Capacity[i]);
            context.SetInputShape(0, [1, 1, 8, 8]);
            for (int round = 0; round < 20; round++)
            {
                int s = (worker * 7 + round) % labels.Length;
                pixels.AsSpan(s * 64, 64).CopyTo(buffers.Floats(0));
                context.Enqueue(0);
                for (int c = 0; c < 10; c++)
                    Assert.Equal(logits[s][c], buffers.Floats(1)[c], 1e-3f);
            }
        });
    }

    [Fact]
    public void A_model_that_drifted_from_its_bindings_fails_at_load_listing_every_difference()
    {
        var e = Assert.Throws<SignatureMismatchException>(() =>
            OnnxRuntimeEngine.Load(ModelPath, DigitsSignature(inputDtype: "half", classes: 12, dropProbabilities: true, extraInput: true)));
        Assert.Equal(4, e.Differences.Count);
        Assert.Contains(e.Differences, d => d.Contains("'pixels' has dtype float in the loaded model, but half", StringComparison.Ordinal));
        Assert.Contains(e.Differences, d => d.Contains("'logits' dimension 1 is 10 in the loaded model, but 12", StringComparison.Ordinal));
        Assert.Contains(e.Differences, d => d.Contains("input 'temperature' is missing", StringComparison.Ordinal));
        Assert.Contains(e.Differences, d => d.Contains("extra output 'probabilities'", StringComparison.Ordinal));
        Assert.Contains("digits.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("Rebuild the project", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_inputs_get_specific_errors()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxRuntimeEngine.Load(Path.Combine(AppContext.BaseDirectory, "nope.onnx"), DigitsSignature()));

        string corrupt = Path.Combine(Path.GetTempPath(), $"ttrt-corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(ModelPath).AsSpan(0, 1000).ToArray());
        try
        {
            Assert.ThrowsAny<Exception>(() => OnnxRuntimeEngine.Load(corrupt, DigitsSignature()));
        }
        finally
        {
            File.Delete(corrupt);
        }

        var fp8 = new BindingManifest(new ModelSource(ModelKind.Onnx, "x.onnx", new string('0', 64), 1),
            [new TensorBinding("q", TensorMode.Input, "fp8", [4])]);
        var ns = Assert.Throws<NotSupportedException>(() => OnnxRuntimeEngine.Load(ModelPath, fp8));
        Assert.Contains("'q' has dtype fp8", ns.Message, StringComparison.Ordinal);

        using var engine = OnnxRuntimeEngine.Load(ModelPath, DigitsSignature());
        using var context = engine.CreateContext();
        Assert.Contains("rank 4", Assert.Throws<ArgumentException>(() => context.SetInputShape(0, [1, 64])).Message, StringComparison.Ordinal);
        Assert.Contains("dimension 2 must be 8", Assert.Throws<ArgumentException>(() => context.SetInputShape(0, [1, 1, 9, 8])).Message, StringComparison.Ordinal);
        Assert.Contains("No buffer is bound to 'pixels'", Assert.Throws<InvalidOperationException>(() => context.Enqueue(0)).Message, StringComparison.Ordinal);

        using var small = new HostBuffers(64 * 4, 10 * 4, 10 * 4);
        for (int i = 0; i < 3; i++)
            context.SetTensorAddress(i, small.Address[i], small.Capacity[i]);
        context.SetInputShape(0, [2, 1, 8, 8]);
        var tooBig = Assert.Throws<InvalidOperationException>(() => context.Enqueue(0));
        Assert.Contains("needs 512 bytes, more than its 256-byte buffer", tooBig.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_refuses_disposal_while_contexts_live()
    {
        var engine = OnnxRuntimeEngine.Load(ModelPath, DigitsSignature());
        var context = engine.CreateContext();
        Assert.Throws<InvalidOperationException>(engine.Dispose);
        context.Dispose();
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.CreateContext());
    }

    private static float MaxOf(ReadOnlySpan<float> s)
    {
        float m = float.NegativeInfinity;
        foreach (var v in s)
            m = Math.Max(m, v);
        return m;
    }
}
