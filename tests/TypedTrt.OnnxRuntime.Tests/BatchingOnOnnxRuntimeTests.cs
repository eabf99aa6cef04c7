using System.Text.Json;
using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using Xunit;

// Every wait is bounded by WaitAsync(Long); requests run without a token on purpose (a cancellable token changes the queue path).
#pragma warning disable xUnit1051

namespace TypedTrt.OnnxRuntime.Tests;

/// <summary>Dynamic batching on ONNX Runtime with real models: every caller's rows equal an un-batched run of the same rows.</summary>
public sealed class BatchingOnOnnxRuntimeTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name);

    private static float[][] DigitPixels()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Model("samples.json")));
        return doc.RootElement.GetProperty("samples").EnumerateArray()
            .Select(s => s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f).ToArray()).ToArray();
    }

    private static InferenceInput[] Digits(float[][] pixels, int[] samples) =>
        [InferenceInput.Create<float>(0, samples.SelectMany(s => pixels[s]).ToArray(), [samples.Length, 1, 8, 8])];

    [Fact]
    public async Task A_thousand_concurrent_digit_callers_get_exactly_the_unbatched_rows()
    {
        var pixels = DigitPixels();
        using var engine = OnnxRuntimeEngine.Load(Model("digits.onnx"), OnnxRuntimeEngineTests.DigitsSignature());

        // Reference: every sample alone, un-batched.
        var logits = new float[pixels.Length][];
        var probabilities = new float[pixels.Length][];
        await using (var plain = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 }))
        {
            for (int s = 0; s < pixels.Length; s++)
            {
                var r = await plain.RunAsync(Digits(pixels, [s]));
                logits[s] = r.GetOutput("logits").ToArray<float>();
                probabilities[s] = r.GetOutput("probabilities").ToArray<float>();
            }
        }

        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 2,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 32, MaxQueueDelay = TimeSpan.FromMilliseconds(2) },
        });
        var rng = new Random(42);
        var plan = Enumerable.Range(0, 1000).Select(_ => Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(pixels.Length)).ToArray()).ToArray();
        using var go = new ManualResetEventSlim();
        var tasks = plan.Select((samples, i) => Task.Run(async () =>
        {
            go.Wait();
            float[] gotLogits, gotProbabilities;
            if (i % 2 == 0)
            {
                var r = await runner.RunAsync(Digits(pixels, samples));
                Assert.Equal(new long[] { samples.Length, 10 }, r.GetOutput("logits").Shape);
                gotLogits = r.GetOutput("logits").ToArray<float>();
                gotProbabilities = r.GetOutput("probabilities").ToArray<float>();
            }
            else
            {
                using var lease = await runner.AcquireAsync();
                lease.SetInputShape(0, [samples.Length, 1, 8, 8]);
                var span = lease.GetInputSpan<float>(0);
                for (int k = 0; k < samples.Length; k++)
                    pixels[samples[k]].CopyTo(span.Slice(k * 64, 64));
                await lease.RunAsync();
                gotLogits = lease.GetOutputSpan<float>(1).ToArray();
                gotProbabilities = lease.GetOutputSpan<float>(2).ToArray();
            }

            for (int k = 0; k < samples.Length; k++)
            {
                Assert.Equal(logits[samples[k]], gotLogits.AsSpan(k * 10, 10).ToArray());
                Assert.Equal(probabilities[samples[k]], gotProbabilities.AsSpan(k * 10, 10).ToArray());
            }
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks).WaitAsync(Long);

        var stats = runner.GetBatchingStatistics()!;
        Assert.Equal(1000, stats.Requests);
        Assert.Equal(plan.Sum(p => p.Length), stats.Rows);
        Assert.True(stats.Batches < 500, $"1000 concurrent requests ran as {stats.Batches} batches");
    }

    [Fact]
    public async Task Token_sequences_of_different_lengths_batch_by_length_on_a_pytorch_model()
    {
        // int64_io.onnx (torch.onnx.export): input_ids int64 [batch, sequence] → logits float [batch, sequence, 5], argmax int64 [batch, sequence].
        var profile = new ProfileSpec([new("batch", new DimRange(1, 8, 16)), new("sequence", new DimRange(1, 8, 16))]);
        var signature = ModelInspector.Inspect(Model("int64_io.onnx"), new InspectionOptions { Profiles = [profile] });
        using var engine = OnnxRuntimeEngine.Load(Model("int64_io.onnx"), signature);
        int ids = signature.Tensors.ToList().FindIndex(t => t.Name == "input_ids");
        int logitsIndex = signature.Tensors.ToList().FindIndex(t => t.Name == "logits");
        int argmaxIndex = signature.Tensors.ToList().FindIndex(t => t.Name == "argmax");

        InferenceInput[] Tokens(int seed, int rows, int length)
        {
            var t = new long[rows * length];
            for (int i = 0; i < t.Length; i++)
                t[i] = (seed * 31 + i * 7) % 32;
            return [InferenceInput.Create<long>(ids, t, [rows, length])];
        }

        var rng = new Random(7);
        var plan = Enumerable.Range(0, 300).Select(i => (Seed: i, Rows: rng.Next(1, 4), Length: new[] { 3, 5, 9 }[rng.Next(3)])).ToArray();
        var expected = new Dictionary<int, (float[] Logits, long[] Argmax)>();
        await using (var plain = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 }))
        {
            foreach (var p in plan)
            {
                var r = await plain.RunAsync(Tokens(p.Seed, p.Rows, p.Length));
                expected[p.Seed] = (r.GetOutput(logitsIndex).ToArray<float>(), r.GetOutput(argmaxIndex).ToArray<long>());
            }
        }

        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 2,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 16, MaxQueueDelay = TimeSpan.FromMilliseconds(3) },
        });
        using var go = new ManualResetEventSlim();
        var tasks = plan.Select(p => Task.Run(async () =>
        {
            go.Wait();
            var r = await runner.RunAsync(Tokens(p.Seed, p.Rows, p.Length));
            Assert.Equal(new long[] { p.Rows, p.Length, 5 }, r.GetOutput(logitsIndex).Shape);
            Assert.Equal(expected[p.Seed].Logits, r.GetOutput(logitsIndex).ToArray<float>());
            Assert.Equal(expected[p.Seed].Argmax, r.GetOutput(argmaxIndex).ToArray<long>());
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks).WaitAsync(Long);
        var stats = runner.GetBatchingStatistics()!;
        Assert.Equal(300, stats.Requests);
        Assert.True(stats.Batches < 300, stats.ToString());
    }

    [Fact]
    public void A_real_model_with_a_fixed_batch_is_refused_naming_the_tensor()
    {
        // uint8_bool.onnx (torch.onnx.export) has static shapes: image uint8 [1, 3, 16, 16].
        var signature = ModelInspector.Inspect(Model("uint8_bool.onnx"));
        using var engine = OnnxRuntimeEngine.Load(Model("uint8_bool.onnx"), signature);
        var e = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 4 },
        }));
        Assert.Contains("Input 'image' has shape [1, 3, 16, 16]: dimension 0 is fixed at 1", e.Message);
    }
}
