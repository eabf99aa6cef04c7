using System.Text.Json;
using TypedTrt.Runtime;
using Xunit;

namespace TypedTrt.OnnxRuntime.Cuda.Tests;

/// <summary>
/// Real models through generated runners on the GPU, each compared with ONNX Runtime's CPU provider. Tolerances are
/// per model and stated in each test, with TF32 off (<see cref="OrtCuda.Fp32"/>): fp32 models within 1e-4 + 1e-3·|x|
/// (cuDNN/cuBLAS sum in other orders), the detector's probability map within 2e-3, fp16 within 1e-2 + 1e-2·|x|; with
/// ONNX Runtime's default TF32, Digits within 3e-2 and the same predictions.
/// </summary>
public sealed class GpuModelTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static (float[] Pixels, int[] Labels) DigitSamples()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(OrtCuda.Model("samples.json")));
        var items = doc.RootElement.GetProperty("samples").EnumerateArray().ToArray();
        return (items.SelectMany(s => s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f)).ToArray(),
            items.Select(s => s.GetProperty("label").GetInt32()).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Digits_on_the_gpu_match_the_cpu_backend_and_classify_every_sample(bool synchronizeRuns)
    {
        OrtCuda.Require();
        var (pixels, labels) = DigitSamples();
        int n = labels.Length;
        // The generated runner is constructed the same way over either engine.
        using var gpuEngine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, OrtCuda.Fp32(synchronizeRuns));
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        await using var gpu = new DigitsRunner(gpuEngine, 2);
        await using var cpu = new DigitsRunner(cpuEngine, 1);
        Assert.Equal(Runtime.Engine.BufferPlacement.Device, gpu.Runner.Placement);

        var batchInput = new DigitsInput { Pixels = pixels, PixelsShape = [n, 1, 8, 8] };
        var g = await gpu.RunAsync(batchInput, Ct);
        var c = await cpu.RunAsync(batchInput, Ct);
        Assert.Equal([n, 10], g.ProbabilitiesShape);
        OrtCuda.AssertClose("digits logits (batch 24)", g.Logits, c.Logits, 1e-4, 1e-3);
        OrtCuda.AssertClose("digits probabilities (batch 24)", g.Probabilities, c.Probabilities, 1e-5, 1e-3);

        int correct = 0;
        var singles = await Task.WhenAll(Enumerable.Range(0, n).Select(i =>
            gpu.RunAsync(new DigitsInput { Pixels = pixels.AsMemory(i * 64, 64), PixelsShape = [1, 1, 8, 8] }, Ct).AsTask()));
        for (int i = 0; i < n; i++)
        {
            OrtCuda.AssertClose($"digit {i} alone vs in the batch", singles[i].Probabilities, g.Probabilities.AsSpan(i * 10, 10), 1e-5, 1e-3);
            correct += ArgMax(singles[i].Probabilities) == labels[i] ? 1 : 0;
        }

        Assert.Equal(n, correct);
        OrtCuda.Log("digits", ("synchronizeRuns", synchronizeRuns ? 1 : 0), ("correct", correct), ("of", n));
    }

    [Fact]
    public async Task Digits_with_default_tf32_stay_within_tf32_error_and_predict_the_same()
    {
        OrtCuda.Require();
        var (pixels, labels) = DigitSamples();
        int n = labels.Length;
        using var gpuEngine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        await using var gpu = new DigitsRunner(gpuEngine, 2);
        await using var cpu = new DigitsRunner(cpuEngine, 1);
        var input = new DigitsInput { Pixels = pixels, PixelsShape = [n, 1, 8, 8] };
        var g = await gpu.RunAsync(input, Ct);
        var c = await cpu.RunAsync(input, Ct);
        OrtCuda.AssertClose("digits logits, TF32 (batch 24)", g.Logits, c.Logits, 3e-2, 1e-2);
        for (int i = 0; i < n; i++)
            Assert.Equal(ArgMax(c.Probabilities.AsSpan(i * 10, 10)), ArgMax(g.Probabilities.AsSpan(i * 10, 10)));
    }

    [Fact]
    public async Task Fp16_model_runs_half_precision_io_on_the_gpu()
    {
        OrtCuda.Require();
        using var gpuEngine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("fp16_io.onnx"), Fp16Net.Signature);
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("fp16_io.onnx"), Fp16Net.Signature);
        await using var gpu = new Fp16NetRunner(gpuEngine, 2);
        await using var cpu = new Fp16NetRunner(cpuEngine, 1);
        var rng = new Random(16);
        foreach (int batch in new[] { 1, 5, 16 })
        {
            var x = Enumerable.Range(0, batch * 16).Select(_ => (Half)(rng.NextSingle() * 4 - 2)).ToArray();
            var input = new Fp16NetInput { Input = x, InputShape = [batch, 16] };
            var g = await gpu.RunAsync(input, Ct);
            var c = await cpu.RunAsync(input, Ct);
            Assert.Equal([batch, 4], g.OutputShape);
            OrtCuda.AssertClose($"fp16 batch {batch}", g.Output.Select(h => (float)h).ToArray(), c.Output.Select(h => (float)h).ToArray(), 1e-2, 1e-2);
        }
    }

    [Fact]
    public async Task Int64_tokens_with_changing_shapes_on_one_lease()
    {
        OrtCuda.Require();
        using var gpuEngine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("int64_io.onnx"), TokenNet.Signature, OrtCuda.Fp32());
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("int64_io.onnx"), TokenNet.Signature);
        await using var gpu = new TokenNetRunner(gpuEngine, 1);
        await using var cpu = new TokenNetRunner(cpuEngine, 1);
        var rng = new Random(64);
        using var lease = await gpu.AcquireAsync(Ct);
        foreach (var (batch, seq) in new[] { (1, 1), (4, 64), (2, 17), (4, 64), (3, 5) })
        {
            long[] ids = Enumerable.Range(0, batch * seq).Select(_ => (long)rng.Next(0, 32)).ToArray(); // vocabulary 32
            lease.Inputs.SetInputIdsShape([batch, seq]);
            ids.CopyTo(lease.Inputs.InputIds);
            await lease.RunAsync(Ct);
            var c = await cpu.RunAsync(new TokenNetInput { InputIds = ids, InputIdsShape = [batch, seq] }, Ct);
            Assert.Equal([batch, seq, 5], lease.Outputs.LogitsShape.ToArray());
            OrtCuda.AssertClose($"int64 logits [{batch},{seq}]", lease.Outputs.Logits, c.Logits, 1e-4, 1e-3);
            var argmax = lease.Outputs.Argmax;
            for (int i = 0; i < argmax.Length; i++)
            {
                var row = c.Logits.AsSpan(i * 5, 5);
                float best = row[(int)c.Argmax[i]], second = float.MinValue;
                for (int k = 0; k < 5; k++)
                {
                    if (k != c.Argmax[i])
                        second = Math.Max(second, row[k]);
                }

                if (best - second > 1e-4f)
                    Assert.Equal(c.Argmax[i], argmax[i]);
            }
        }
    }

    [Fact]
    public async Task Uint8_image_to_bool_mask_matches_the_cpu_backend()
    {
        OrtCuda.Require();
        using var gpuEngine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("uint8_bool.onnx"), MaskNet.Signature);
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("uint8_bool.onnx"), MaskNet.Signature);
        await using var gpu = new MaskNetRunner(gpuEngine, 2);
        await using var cpu = new MaskNetRunner(cpuEngine, 1);
        var rng = new Random(8);
        var image = new byte[3 * 16 * 16];
        rng.NextBytes(image);
        var g = await gpu.RunAsync(new MaskNetInput { Image = image }, Ct);
        var c = await cpu.RunAsync(new MaskNetInput { Image = image }, Ct);
        OrtCuda.AssertClose("uint8 model score", g.Score, c.Score, 1e-5, 1e-5);
        int flips = g.Mask.Zip(c.Mask).Count(p => p.First != p.Second);
        OrtCuda.Log("mask", ("flips", flips), ("of", c.Mask.Length));
        Assert.True(flips <= 2, $"{flips} of {c.Mask.Length} mask pixels differ (only pixels at the 0 threshold may).");
    }

    [Fact]
    public async Task PaddleOcr_direction_classifier_matches_onnx_runtime_cpu()
    {
        string model = OrtCuda.RequireModel("ch_ppocr_mobile_v2.0_cls_infer.onnx");
        using var engine = OnnxRuntimeCudaEngine.Load(model, OcrDirection.Signature, OrtCuda.Fp32());
        await using var gpu = new OcrDirectionRunner(engine, 2);
        foreach (int batch in new[] { 1, 6, 16 })
        {
            float[] x = OrtCuda.DocumentImage(batch, batch, 48, 192);
            var g = await gpu.RunAsync(new OcrDirectionInput { X = x, XShape = [batch, 3, 48, 192] }, Ct);
            Assert.Equal([batch, 2], g.Softmax0Tmp0Shape);
            float[] c = OrtCuda.RunCpu(model, "x", x, [batch, 3, 48, 192]);
            OrtCuda.AssertClose($"ocr cls batch {batch}", g.Softmax0Tmp0, c, 1e-4, 1e-3);
        }
    }

    [Fact]
    public async Task PaddleOcr_detector_at_640_matches_onnx_runtime_cpu()
    {
        string model = OrtCuda.RequireModel("ch_PP-OCRv4_det_infer.onnx");
        using var engine = OnnxRuntimeCudaEngine.Load(model, OcrDetector.Signature, OrtCuda.Fp32());
        await using var gpu = new OcrDetectorRunner(engine, 2);
        Assert.Equal([4, 1, 640, 640], gpu.Runner.GetMaxShape(OcrDetector.Tensors.Sigmoid0Tmp0.Index).ToArray());
        foreach (int batch in new[] { 1, 4 })
        {
            float[] x = OrtCuda.DocumentImage(100 + batch, batch, 640, 640, imagenet: true);
            var g = await gpu.RunAsync(new OcrDetectorInput { X = x, XShape = [batch, 3, 640, 640] }, Ct);
            Assert.Equal([batch, 1, 640, 640], g.Sigmoid0Tmp0Shape);
            float[] c = OrtCuda.RunCpu(model, "x", x, [batch, 3, 640, 640]);
            OrtCuda.AssertClose($"ocr det batch {batch}", g.Sigmoid0Tmp0, c, 2e-3, 0);
            int text = c.Count(v => v > 0.3f);
            OrtCuda.Log("det", ("batch", batch), ("textPixels", text));
            Assert.True(text > 100, $"the detector found only {text} text pixels in an image of text lines; the input is not what the model expects.");
        }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
                best = i;
        }

        return best;
    }
}
