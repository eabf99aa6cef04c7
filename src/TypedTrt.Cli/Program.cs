using System.Globalization;
using System.Text;
using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.TensorRT;

namespace TypedTrt.Cli;

/// <summary>The <c>typedtrt</c> command line.</summary>
public static class Program
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for an unexpected failure (a bug).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad input or bad usage.</summary>
    public const int BadInput = 2;

    internal const string Usage = """
        Usage: typedtrt inspect <model> [--format table|json] [--out FILE] [--profile NAME=MIN..MAX:OPT[,...]]...
                                        [--write-sidecar]

          <model>             an ONNX model (.onnx) or a TensorRT engine (.engine/.plan). An engine is read
                              with TensorRT when it is installed, otherwise from its <engine>.bindings.json
                              sidecar manifest
          --write-sidecar     (engines, needs TensorRT) read the engine with TensorRT and write its sidecar
                              manifest <engine>.bindings.json next to it
          --format table      print a table of inputs and outputs (default)
          --format json       print the binding manifest (typedtrt.bindings/v1)
          --out FILE          also write the binding manifest to FILE
          --profile SPEC      an optimization profile for an ONNX model's dynamic dims, by name or by
                              TENSOR[INDEX] for dims without a name, e.g. --profile batch=1..32:8,seq=1..512:128
                              or --profile 'state[1]=1..8:1'. Repeated --profile options merge into one
                              profile until one names a dim again, which starts the next profile.

               typedtrt tune (<engine> | --test-engine pipeline|tiny|pipeline-b) [--streams 1,2,4,8] [--batches 1,8,32]
                             [--max-batch 8,16,32] [--queue-delay 100us,1ms] [--graphs] [--p99-budget 2ms]
                             [--concurrency N] [--window 1s] [--requests N] [--svg FILE]

          Measures throughput and latency p50/p90/p99 of the runner like perf_analyzer (windows repeated until
          three consecutive agree within 5%; settings that never do are marked ~) over streams x rows per
          request x dynamic batching (--max-batch x --queue-delay, single-row requests) x CUDA graphs (--graphs
          tries on and off, static shapes only), prints the throughput/p99 Pareto front, recommends the cheapest
          setting within 3% of the best that meets --p99-budget, and writes an SVG chart (items/s vs p99).
          Needs an NVIDIA GPU (exit code 2 without one); <engine> needs TensorRT.
          --test-engine pipeline    the NVRTC pipeline test engine instead of a TensorRT engine
                                    (8 MiB in, 64 KiB out, iters 64, 66 blocks; --ptx FILE loads its kernel)
          --test-engine tiny        the same kernel with a batch dim, 4 B in/out per row, iters 0 (up to 64 rows)
          --test-engine pipeline-b  with a batch dim, 602112 B in, 4000 B out per row, iters 16, 16 blocks (up to 64 rows)

               typedtrt triton-config <manifest.json | model> [--name NAME] [--platform P | --backend B]
                             [--max-batch-size N] [--dynamic-batching] [--max-queue-delay-us N] [--out FILE]

          Writes Triton Inference Server's config.pbtxt for the model (typedtrt triton-config --help for more).
        """;

    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with the given writers (used by tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? stderr : stdout).WriteLine(Usage);
            return args.Length == 0 ? BadInput : Ok;
        }

        if (args[0] == "--version")
        {
            stdout.WriteLine(typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            return Ok;
        }

        if (args[0] == "tune")
            return TuneCommand.Run(args, stdout, stderr);
        if (args[0] == "triton-config")
            return TritonConfigCommand.Run(args, stdout, stderr);
        if (args[0] != "inspect")
            return UsageError(stderr, $"unknown command '{args[0]}'.");

        string? file = null, format = "table", outFile = null;
        bool writeSidecar = false;
        var profiles = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    return Ok;
                case "--format" or "--out" or "--profile":
                    if (i + 1 >= args.Length)
                        return UsageError(stderr, $"{a} needs a value.");
                    string v = args[++i];
                    if (a == "--format")
                        format = v;
                    else if (a == "--out")
                        outFile = v;
                    else
                        profiles.Add(v);
                    break;
                case "--write-sidecar":
                    writeSidecar = true;
                    break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal))
                    {
                        // --format=json style
                        int eq = a.IndexOf('=', StringComparison.Ordinal);
                        var rest = new List<string>(args[..i]) { a[..eq], a[(eq + 1)..] };
                        rest.AddRange(args[(i + 1)..]);
                        return Run([.. rest], stdout, stderr);
                    }

                    if (a.StartsWith('-') && a.Length > 1)
                        return UsageError(stderr, $"unknown option '{a}'.");
                    if (file is not null)
                        return UsageError(stderr, $"one model at a time ('{file}' and '{a}' given).");
                    file = a;
                    break;
            }
        }

        if (file is null)
            return UsageError(stderr, "inspect needs a model file.");
        if (format is not ("table" or "json"))
            return UsageError(stderr, $"--format must be 'table' or 'json', not '{format}'.");

        if (FileChecks.ModelProblem(file) is { } modelProblem)
        {
            stderr.WriteLine(OneLine($"typedtrt: {modelProblem}"));
            return BadInput;
        }

        if (outFile is not null && FileChecks.OutProblem(outFile, file) is { } outProblem)
        {
            stderr.WriteLine(OneLine($"typedtrt: {outProblem}"));
            return BadInput;
        }

        IReadOnlyList<ProfileSpec> specs;
        try
        {
            specs = ProfileSpec.ParseAll(profiles);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            stderr.WriteLine(OneLine($"typedtrt: {e.Message}"));
            return BadInput;
        }

        BindingManifest manifest;
        try
        {
            manifest = EngineInspection.TryInspectWithTensorRt(file, writeSidecar, stderr)
                ?? ModelInspector.Inspect(file, new InspectionOptions { Profiles = specs });
        }
        catch (ModelInspectionException e)
        {
            stderr.WriteLine(OneLine($"typedtrt: {e.Message}"));
            return BadInput;
        }
        catch (Exception e) when (e is TensorRtException or InvalidDataException)
        {
            stderr.WriteLine(OneLine($"typedtrt: {file}: {e.Message}"));
            return BadInput;
        }
#pragma warning disable CA1031 // the one place that turns any bug into one line instead of a stack trace
        catch (Exception e)
        {
            stderr.WriteLine(OneLine($"typedtrt: {file}: internal error ({e.GetType().Name}): {e.Message}"));
            return Failure;
        }
#pragma warning restore CA1031

        if (outFile is not null)
        {
            try
            {
                ManifestSerializer.WriteFileIfChanged(manifest, outFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                stderr.WriteLine(OneLine($"typedtrt: {outFile}: cannot write the manifest: {e.Message}"));
                return BadInput;
            }
        }

        if (format == "json")
            stdout.Write(ManifestSerializer.SerializeToString(manifest));
        else
            stdout.Write(TableFormatter.Format(manifest, file));
        return Ok;
    }

    internal static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"typedtrt: {message}");
        stderr.WriteLine(Usage);
        return BadInput;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>Formats a manifest as a readable, aligned table.</summary>
public static class TableFormatter
{
    // The shared rule (BindingManifest.IsShapeKnownOnlyAfterRun) reads dim names; a TensorRT plan keeps none, and TensorRT
    // resolves output shapes from input shapes itself (only data-dependent ones stay open, which the plan's metadata
    // does not say), so inspect reports it for ONNX models only.
    private static bool KnownAfterRun(BindingManifest manifest, TensorBinding t) =>
        t.Mode == TensorMode.Output && manifest.Source.Kind == ModelKind.Onnx && manifest.IsShapeKnownOnlyAfterRun(t);

    /// <summary>The table for a manifest read from <paramref name="path"/>.</summary>
    public static string Format(BindingManifest manifest, string path)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var sb = new StringBuilder();
        var s = manifest.Source;
        var header = new List<string>
        {
            s.Kind == ModelKind.Onnx ? "onnx model" : "tensorrt engine",
            path,
            string.Create(CultureInfo.InvariantCulture, $"{s.Bytes} bytes"),
        };
        if (s.Onnx is { } o)
        {
            if (o.ProducerName.Length > 0)
                header.Add($"producer {o.ProducerName} {o.ProducerVersion}".TrimEnd());
            header.Add(string.Create(CultureInfo.InvariantCulture, $"ir {o.IrVersion}"));
            if (o.Opsets.Count > 0)
                header.Add("opset " + string.Join(" ", o.Opsets.Select(static p => string.Create(CultureInfo.InvariantCulture, $"{(p.Key.Length == 0 ? "ai.onnx" : p.Key)}={p.Value}"))));
        }

        if (s.TensorRTVersion is not null)
            header.Add($"tensorrt {s.TensorRTVersion}");
        header.Add(manifest.Profiles.Count == 1 ? "1 profile" : string.Create(CultureInfo.InvariantCulture, $"{manifest.Profiles.Count} profiles"));
        sb.Append(string.Join(" | ", header)).Append('\n');
        if (s.Metadata.Count > 0)
            sb.Append("metadata: ").Append(string.Join(", ", s.Metadata.Select(static kv => $"{kv.Key}={Shorten(kv.Value, 48)}"))).Append('\n');
        sb.Append('\n');

        var rows = new List<string[]> { (string[])["NAME", "MODE", "DTYPE", "SHAPE"] };
        foreach (var t in manifest.Tensors)
        {
            rows.Add(
            [
                t.Name,
                t.Mode == TensorMode.Input ? "input" : "output",
                t.IsSupported ? t.DTypeName : t.DTypeName + " (unsupported)",
                KnownAfterRun(manifest, t) ? Shape(t) + " (shape known after the run)" : Shape(t),
            ]);
        }

        int[] widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var r in rows)
        {
            for (int c = 0; c < 4; c++)
            {
                sb.Append(c < 3 ? r[c].PadRight(widths[c] + 2) : r[c]);
            }

            sb.Append('\n');
        }

        for (int i = 0; i < manifest.Profiles.Count; i++)
        {
            sb.Append('\n').Append(string.Create(CultureInfo.InvariantCulture, $"profile {i}:")).Append('\n');
            foreach (var p in manifest.Profiles[i].Inputs)
                sb.Append($"  {p.Name}: min {Dims(p.Min)} opt {Dims(p.Opt)} max {Dims(p.Max)}").Append('\n');
        }

        var unsupported = manifest.Tensors.Where(static t => !t.IsSupported).Select(static t => t.Name).ToArray();
        if (unsupported.Length > 0)
            sb.Append('\n').Append($"note: TensorRT cannot bind {string.Join(", ", unsupported.Select(static n => $"'{n}'"))} (unsupported dtype).").Append('\n');
        var afterRun = manifest.Outputs.Where(t => KnownAfterRun(manifest, t)).ToArray();
        if (afterRun.Length > 0)
            sb.Append($"note: the shape of {string.Join(", ", afterRun.Select(static t => $"'{t.Name}'"))} is known only after the run (no input dim names {(afterRun.Length == 1 ? "its" : "their")} dynamic dims); the runner sizes {(afterRun.Length == 1 ? "it" : "them")} at run time.").Append('\n');
        if (manifest.Profiles.Count > 0)
        {
            var missing = manifest.Inputs.Where(t => t.IsDynamic && manifest.Profiles.All(p => p.Find(t.Name) is null)).Select(static t => $"'{t.Name}'").ToArray();
            if (missing.Length > 0)
                sb.Append($"note: dynamic input(s) {string.Join(", ", missing)} are in no profile (a dynamic dim has no range: give it one by name, or by TENSOR[INDEX] when it has none).").Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>A shape with dim names: <c>[batch=-1, 3, 224, 224]</c>; scalars are <c>[] (scalar)</c>.</summary>
    public static string Shape(TensorBinding t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.IsScalar)
            return "[] (scalar)";
        var parts = new string[t.Rank];
        for (int d = 0; d < t.Rank; d++)
        {
            string v = t.Shape[d].ToString(CultureInfo.InvariantCulture);
            parts[d] = t.DimNames[d].Length > 0 ? $"{t.DimNames[d]}={v}" : v;
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    private static string Dims(IReadOnlyList<long> d) => TensorBinding.FormatShape(d);

    private static string Shorten(string s, int max)
    {
        s = s.ReplaceLineEndings(" ");
        return s.Length <= max ? s : s[..(max - 1)] + "…";
    }
}
