using System.Globalization;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;
using TypedTrt.Runtime.Testing;
using TypedTrt.TensorRT;

namespace TypedTrt.Cli;

/// <summary><c>typedtrt tune</c>: sweeps stream counts (and batch sizes) with <see cref="StreamTuner"/>.</summary>
internal static class TuneCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? engineFile = null, testEngine = null, svg = null, ptx = null;
        int[] streams = [1, 2, 4, 8];
        int[] batches = [], maxBatches = [];
        TimeSpan[] delays = [TimeSpan.FromMicroseconds(100), TimeSpan.FromMilliseconds(1)];
        TimeSpan? budget = null, window = null;
        int? concurrency = null;
        bool graphs = false;
        int requests = 512;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help")
            {
                stdout.WriteLine(Program.Usage);
                return Program.Ok;
            }

            if (a == "--graphs")
            {
                graphs = true;
                continue;
            }

            if (a is "--streams" or "--batches" or "--svg" or "--test-engine" or "--requests" or "--ptx" or "--max-batch" or "--queue-delay" or "--p99-budget" or "--concurrency" or "--window")
            {
                if (i + 1 >= args.Length)
                    return Program.UsageError(stderr, $"{a} needs a value.");
                string v = args[++i];
                try
                {
                    switch (a)
                    {
                        case "--streams": streams = ParseList(v); break;
                        case "--batches": batches = ParseList(v); break;
                        case "--max-batch": maxBatches = ParseList(v); break;
                        case "--queue-delay": delays = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseTime).ToArray(); break;
                        case "--p99-budget": budget = ParseTime(v); break;
                        case "--window": window = ParseTime(v); break;
                        case "--concurrency": concurrency = ParseList(v) is [int n] ? n : throw new FormatException(); break;
                        case "--requests": requests = int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture); break;
                        case "--svg": svg = v; break;
                        case "--ptx": ptx = v; break;
                        default: testEngine = v; break;
                    }
                }
                catch (FormatException)
                {
                    return Program.UsageError(stderr, a is "--queue-delay" or "--p99-budget" or "--window"
                        ? $"{a} takes durations such as 100us, 2ms or 1s, not '{v}'."
                        : $"{a} takes positive integers (e.g. 1,2,4,8), not '{v}'.");
                }

                continue;
            }

            if (a.StartsWith('-') && a.Length > 1)
                return Program.UsageError(stderr, $"unknown option '{a}'.");
            if (engineFile is not null)
                return Program.UsageError(stderr, "tune takes one engine.");
            engineFile = a;
        }

        if ((engineFile is null) == (testEngine is null))
            return Program.UsageError(stderr, "tune needs an engine file or --test-engine pipeline (one of them).");
        if (testEngine is not null and not ("pipeline" or "tiny" or "pipeline-b"))
            return Program.UsageError(stderr, $"unknown test engine '{testEngine}' (known: pipeline, tiny, pipeline-b).");
        if (streams.Length == 0 || requests < 1)
            return Program.UsageError(stderr, "--streams needs at least one count and --requests at least 1.");

        if (!CudaDriver.IsAvailable)
        {
            stderr.WriteLine("typedtrt: tune needs an NVIDIA GPU and driver; none was found on this machine.");
            return Program.BadInput;
        }

        IInferenceEngine engine;
        try
        {
            if (testEngine is not null)
            {
                byte[]? image = ptx is not null ? File.ReadAllBytes(ptx) : null;
                engine = testEngine switch
                {
                    "tiny" => NvrtcTestEngine.CreateBatchedPipeline(4, 4, 0, 1, 64, image),
                    "pipeline-b" => NvrtcTestEngine.CreateBatchedPipeline(602112, 4000, 16, 16, 64, image),
                    _ => image is not null ? NvrtcTestEngine.CreatePipelineFromImage(image) : NvrtcTestEngine.CreatePipeline(),
                };
            }
            else
            {
                if (!TensorRtInspector.IsAvailable(out string reason))
                {
                    stderr.WriteLine($"typedtrt: tune <engine> needs TensorRT: {reason}");
                    return Program.BadInput;
                }

                var manifest = TensorRtInspector.ReadManifest(engineFile!);
                engine = TensorRtEngine.Load(engineFile!, manifest);
            }
        }
        catch (Exception e) when (e is CudaUnavailableException or CudaException or IOException or InvalidOperationException or ArgumentException or TensorRtException)
        {
            stderr.WriteLine($"typedtrt: {e.Message.ReplaceLineEndings(" ")}");
            return Program.BadInput;
        }

        using (engine as IDisposable)
        {
            var tuner = new StreamTunerOptions
            {
                Streams = streams,
                Batches = batches,
                Requests = requests,
                MaxBatchSizes = maxBatches,
                QueueDelays = delays,
                CudaGraphs = graphs ? [false, true] : [false],
                Concurrency = concurrency,
                P99Budget = budget,
                Measurement = window is { } w ? new MeasurementOptions { Window = w } : new MeasurementOptions(),
            };
            TuneReport report;
            try
            {
                report = StreamTuner.RunAsync(engine, tuner).GetAwaiter().GetResult();
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"typedtrt: {e.Message.ReplaceLineEndings(" ")}");
                return Program.BadInput;
            }

            stdout.WriteLine(report.ToString());
            if (svg is not null)
            {
                File.WriteAllText(svg, report.ToSvg($"{(testEngine is not null ? testEngine + " test engine" : Path.GetFileName(engineFile))}: items/s vs p99"));
                stdout.WriteLine($"chart: {svg}");
            }
        }

        return Program.Ok;
    }

    /// <summary>Parses 250us / 250µs / 2ms / 1s / 1.5ms (a number without a unit is microseconds).</summary>
    internal static TimeSpan ParseTime(string v)
    {
        string t = v.Trim();
        (string num, double scale) = t.EndsWith("us", StringComparison.Ordinal) || t.EndsWith("µs", StringComparison.Ordinal) ? (t[..^2], 1.0)
            : t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 1e3)
            : t.EndsWith('s') ? (t[..^1], 1e6)
            : (t, 1.0);
        if (!double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || x < 0 || !double.IsFinite(x))
            throw new FormatException();
        return TimeSpan.FromMicroseconds(x * scale);
    }

    private static int[] ParseList(string v)
    {
        var parts = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var r = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            r[i] = int.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture);
            if (r[i] < 1)
                throw new FormatException();
        }

        return r;
    }
}
