using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TypedTrt.OnnxRuntime;
using TypedTrt.OnnxRuntime.Cuda;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;
using TypedTrt.TensorRT;

namespace TypedTrt.Samples.Digits;

/// <summary>Classifies held-out handwritten digits with the generated DigitClassifier bindings.</summary>
public static class Program
{
    private const string Usage = """
        Usage: dotnet run --project samples/Digits -- [--cuda | --tensorrt ENGINE] [--streams N] [--timing] [--sweep FILE.svg] [--batching]

          (no options)        classify 24 bundled held-out digits on ONNX Runtime (CPU) and print labels and scores
          --cuda              run on the GPU through ONNX Runtime's CUDA provider (build with -p:OnnxRuntimeGpu=true
                              for its native libraries; needs CUDA 13 and cuDNN 9, see docs/onnxruntime-cuda.md)
          --tensorrt ENGINE   run on TensorRT instead, with an engine built from model/digits.onnx, e.g.
                              trtexec --onnx=model/digits.onnx --saveEngine=digits.engine
                                      --minShapes=pixels:1x1x8x8 --optShapes=pixels:8x1x8x8 --maxShapes=pixels:32x1x8x8
          --streams N         runner streams (slots); default from the TensorRTEngine item (2)
          --timing            also print per-request latency percentiles and throughput
          --sweep FILE.svg    measure throughput at 1, 2 and 4 streams and write an SVG chart
          --batching          64 concurrent single-digit callers without and with dynamic batching: items/s,
                              p50/p99 and the histogram of batch sizes the runner formed
        """;

    /// <summary>Entry point; exit code 0 when every bundled digit was classified correctly.</summary>
    public static async Task<int> Main(string[] args)
    {
        string? enginePath = null, sweepPath = null;
        int streams = DigitClassifier.DefaultStreams;
        bool timing = false, cuda = false, batching = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--tensorrt" when i + 1 < args.Length: enginePath = args[++i]; break;
                case "--cuda": cuda = true; break;
                case "--streams" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out streams) && streams > 0: i++; break;
                case "--timing": timing = true; break;
                case "--batching": batching = true; break;
                case "--sweep" when i + 1 < args.Length: sweepPath = args[++i]; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default:
                    Console.Error.WriteLine($"digits: unknown or incomplete option '{args[i]}'.");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        var samples = LoadSamples(Path.Combine(AppContext.BaseDirectory, "model", "samples.json"));
        IInferenceEngine engine;
        try
        {
            engine = OpenEngine(enginePath, cuda);
        }
        catch (Exception e) when (e is TensorRtException or SignatureMismatchException or FileNotFoundException or InvalidDataException or OnnxRuntimeCudaUnavailableException)
        {
            Console.Error.WriteLine($"digits: {e.Message}");
            return 2;
        }

        using (engine)
        {
            Console.WriteLine($"Model: {DigitClassifier.ModelFileName} on {(enginePath is not null ? "TensorRT" : cuda ? "ONNX Runtime (CUDA)" : "ONNX Runtime (CPU)")}, {streams} stream(s)");
            Console.WriteLine($"Input  pixels        float [batch, 1, 8, 8], batch {DigitClassifier.Tensors.Pixels.MinShape[0]}..{DigitClassifier.Tensors.Pixels.MaxShape[0]}");
            Console.WriteLine($"Output probabilities float [batch, 10]");
            Console.WriteLine();

            int correct = await ClassifyAsync(engine, streams, samples, timing);
            if (sweepPath is not null)
                await SweepAsync(engine, samples, sweepPath);
            if (batching && !await BatchingDemo.RunAsync(engine, samples.Select(s => s.Pixels).ToList(), streams, TimeSpan.FromSeconds(1)))
                return 1;
            return correct == samples.Count ? 0 : 1;
        }
    }

    private static IInferenceEngine OpenEngine(string? enginePath, bool cuda)
    {
        // One generated runner type over any of the three engines.
        string onnx = Path.Combine(AppContext.BaseDirectory, "model", "digits.onnx");
        if (enginePath is not null)
            return TensorRtEngine.Load(enginePath, DigitClassifier.Signature);
        if (cuda)
            return OnnxRuntimeCudaEngine.Load(onnx, DigitClassifier.Signature);
        return OnnxRuntimeEngine.Load(onnx, DigitClassifier.Signature);
    }

    private static async Task<int> ClassifyAsync(IInferenceEngine engine, int streams, IReadOnlyList<Sample> samples, bool timing)
    {
        await using var runner = new DigitClassifierRunner(engine, streams);

        // One request per digit, all in flight at once: the runner spreads them over its streams.
        var latencies = new double[samples.Count];
        if (timing)
            runner.Runner.StartProfiling();
        var clock = Stopwatch.StartNew();
        var outputs = await Task.WhenAll(samples.Select(async (s, i) =>
        {
            long start = Stopwatch.GetTimestamp();
            var output = await runner.RunAsync(new DigitClassifierInput { Pixels = s.Pixels, PixelsShape = [1, 1, 8, 8] });
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return output;
        }));
        double wallMs = clock.Elapsed.TotalMilliseconds;
        var stages = timing ? runner.Runner.StopProfiling() : null;

        // The same digits again as one batch: the predictions must agree.
        var batch = await runner.RunAsync(new DigitClassifierInput
        {
            Pixels = samples.SelectMany(s => s.Pixels).ToArray(),
            PixelsShape = [samples.Count, 1, 8, 8],
        });

        int correct = 0, agree = 0;
        const int perLine = 6;
        for (int first = 0; first < samples.Count; first += perLine)
        {
            var group = Enumerable.Range(first, Math.Min(perLine, samples.Count - first)).ToArray();
            for (int row = 0; row < 8; row++)
                Console.WriteLine(string.Join("  ", group.Select(i => Row(samples[i].Pixels, row))).TrimEnd());
            var line = new StringBuilder();
            foreach (int i in group)
            {
                float[] p = outputs[i].Probabilities;
                int predicted = ArgMax(p);
                correct += predicted == samples[i].Label ? 1 : 0;
                agree += ArgMax(batch.Probabilities.AsSpan(i * 10, 10)) == predicted ? 1 : 0;
                string cell = string.Create(CultureInfo.InvariantCulture, $"#{i + 1} is {samples[i].Label}: {predicted} {p[predicted]:0.00}{(predicted == samples[i].Label ? "" : "!")}");
                line.Append(cell.PadRight(20));
            }

            Console.WriteLine(line.ToString().TrimEnd());
            Console.WriteLine();
        }

        Console.WriteLine($"{correct}/{samples.Count} correct: '#n is L: P s' = sample n, true label L, predicted P with probability s ('!' marks a miss).");
        Console.WriteLine($"The batched run of all {samples.Count} digits agrees with the single requests on {agree}/{samples.Count}.");

        if (timing)
        {
            Array.Sort(latencies);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Timing: {samples.Count} concurrent single-digit requests in {wallMs:0.00} ms; latency p50 {latencies[latencies.Length / 2]:0.000} ms, p90 {latencies[latencies.Length * 9 / 10]:0.000} ms, max {latencies[^1]:0.000} ms"));
            Console.WriteLine();
            Console.WriteLine("Runner stage timing of those requests:");
            double peak = engine.Placement == BufferPlacement.Device ? InferenceRunner.MeasurePinnedH2DPeak() : 0;
            Console.WriteLine(BottleneckReport.Analyze(stages!, peak));
        }

        return correct == samples.Count && agree == samples.Count ? correct : -1;
    }

    private static async Task SweepAsync(IInferenceEngine engine, IReadOnlyList<Sample> samples, string svgPath)
    {
        const int requests = 3000;
        var points = new List<(double X, double Y)>();
        Console.WriteLine();
        Console.WriteLine("streams  requests/s");
        foreach (int s in new[] { 1, 2, 4 })
        {
            await using var runner = new DigitClassifierRunner(engine, s);
            var input = new DigitClassifierInput { Pixels = samples[0].Pixels, PixelsShape = [1, 1, 8, 8] };
            for (int w = 0; w < 50; w++)
                await runner.RunAsync(input);
            var clock = Stopwatch.StartNew();
            int next = 0;
            await Task.WhenAll(Enumerable.Range(0, 2 * s).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= requests)
                    await runner.RunAsync(input);
            }));
            double rps = requests / clock.Elapsed.TotalSeconds;
            points.Add((s, rps));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s,7}  {rps,10:0}"));
        }

        File.WriteAllText(svgPath, SvgChart.LineChart("Digits: throughput vs streams", "streams", "requests / s", [new ChartSeries("DigitClassifierRunner", points)]));
        Console.WriteLine($"wrote {svgPath}");
    }

    private sealed record Sample(int Label, float[] Pixels);

    private static List<Sample> LoadSamples(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.GetProperty("samples").EnumerateArray()
            .Select(s => new Sample(
                s.GetProperty("label").GetInt32(),
                s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f).ToArray()))
            .ToList();
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }

        return best;
    }

    private const string Shades = " .:-=+*#%@";

    private static string Row(float[] pixels, int row)
    {
        var sb = new StringBuilder(16);
        for (int c = 0; c < 8; c++)
            sb.Append(Shades[Math.Min(Shades.Length - 1, (int)(pixels[row * 8 + c] * (Shades.Length - 1) + 0.5f))], 2);
        sb.Append("  ");
        return sb.ToString();
    }
}
