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
        int[] batches = [];
        int requests = 512;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help")
            {
                stdout.WriteLine(Program.Usage);
                return Program.Ok;
            }

            if (a is "--streams" or "--batches" or "--svg" or "--test-engine" or "--requests" or "--ptx")
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
                        case "--requests": requests = int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture); break;
                        case "--svg": svg = v; break;
                        case "--ptx": ptx = v; break;
                        default: testEngine = v; break;
                    }
                }
                catch (FormatException)
                {
                    return Program.UsageError(stderr, $"{a} takes positive integers (e.g. 1,2,4,8), not '{v}'.");
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
        if (testEngine is not null and not "pipeline")
            return Program.UsageError(stderr, $"unknown test engine '{testEngine}' (known: pipeline).");
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
                engine = ptx is not null
                    ? NvrtcTestEngine.CreatePipelineFromImage(File.ReadAllBytes(ptx))
                    : NvrtcTestEngine.CreatePipeline();
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
            var report = StreamTuner.RunAsync(engine, new StreamTunerOptions { Streams = streams, Batches = batches, Requests = requests })
                .GetAwaiter().GetResult();
            stdout.WriteLine(report.ToString());
            if (svg is not null)
            {
                File.WriteAllText(svg, report.ToSvg($"{(testEngine is not null ? "pipeline test engine" : Path.GetFileName(engineFile))}: throughput vs streams"));
                stdout.WriteLine($"chart: {svg}");
            }
        }

        return Program.Ok;
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
