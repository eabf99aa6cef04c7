using System.Globalization;
using System.Text;
using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.Serving.KServe;
using TypedTrt.TensorRT;

namespace TypedTrt.Cli;

/// <summary>
/// <c>typedtrt triton-config</c>: the Triton Inference Server model configuration (<c>config.pbtxt</c>) of a binding
/// manifest (or of a model, inspected first), so a model the typed client was generated from can be deployed on a
/// Triton fleet with the same tensor names, datatypes and shapes.
/// </summary>
internal static class TritonConfigCommand
{
    internal const string Usage = """
        Usage: typedtrt triton-config <manifest.json | model> [--name NAME] [--platform PLATFORM] [--backend BACKEND]
                                      [--max-batch-size N] [--dynamic-batching] [--max-queue-delay-us N]
                                      [--instances N] [--profile SPEC]... [--out FILE]

          Writes Triton's config.pbtxt for the model: tensor names, TYPE_* datatypes, dims (-1 for dynamic), the
          batch dimension as max_batch_size (when every input and output has one leading dynamic dim of one name;
          its maximum from the first optimization profile), scalars as dims [ 1 ] reshaped to [ ].
          <manifest.json>        a binding manifest (typedtrt inspect --out, or the build's obj/.../typedtrt/)
          <model>                an ONNX model or TensorRT engine, inspected as `typedtrt inspect` does
          --name NAME            the model's name (its model-repository folder); default the model file's name
          --platform PLATFORM    default tensorrt_plan for engines, onnxruntime_onnx for ONNX models
          --backend BACKEND      write backend: "BACKEND" (onnxruntime, tensorrt, ...) instead of the default platform
          --max-batch-size N     override max_batch_size; 0 = no batch dimension (full dims)
          --dynamic-batching     add dynamic_batching { } (preferred size: the profile's opt batch)
          --max-queue-delay-us N its max_queue_delay_microseconds (default 100)
          --instances N          instance_group count
          --profile SPEC         profiles for an ONNX model's dynamic dims (as for inspect)
          --out FILE             write the configuration to FILE (replaced only when it changes; never the input,
                                 never a device, FIFO or directory) instead of standard output
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? file = null, outFile = null;
        var options = new TritonModelConfigOptions();
        var profiles = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) is int eq and > 2)
            {
                var rest = new List<string>(args[..i]) { a[..eq], a[(eq + 1)..] };
                rest.AddRange(args[(i + 1)..]);
                return Run([.. rest], stdout, stderr);
            }

            switch (a)
            {
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    return Program.Ok;
                case "--dynamic-batching":
                    options.DynamicBatching = true;
                    break;
                case "--name" or "--platform" or "--backend" or "--max-batch-size" or "--max-queue-delay-us" or "--instances" or "--profile" or "--out":
                    if (i + 1 >= args.Length)
                        return UsageError(stderr, $"{a} needs a value.");
                    string v = args[++i];
                    switch (a)
                    {
                        case "--name":
                            if (v.Length == 0 || v.Contains('/', StringComparison.Ordinal) || v.Contains('\\', StringComparison.Ordinal))
                                return UsageError(stderr, $"--name '{v}' must be a non-empty folder name (no '/').");
                            options.Name = v;
                            break;
                        case "--platform":
                            options.Platform = v;
                            break;
                        case "--backend":
                            options.Backend = v;
                            break;
                        case "--max-batch-size":
                            if (!TryCount(v, 0, out int mbs))
                                return UsageError(stderr, $"--max-batch-size must be a whole number 0 or more, not '{v}'.");
                            options.MaxBatchSize = mbs;
                            break;
                        case "--max-queue-delay-us":
                            if (!TryCount(v, 0, out int delay))
                                return UsageError(stderr, $"--max-queue-delay-us must be a whole number of microseconds 0 or more, not '{v}'.");
                            options.MaxQueueDelayMicroseconds = delay;
                            break;
                        case "--instances":
                            if (!TryCount(v, 1, out int count))
                                return UsageError(stderr, $"--instances must be a whole number 1 or more, not '{v}'.");
                            options.InstanceCount = count;
                            break;
                        case "--profile":
                            profiles.Add(v);
                            break;
                        default:
                            outFile = v;
                            break;
                    }

                    break;
                default:
                    if (a.StartsWith('-') && a.Length > 1)
                        return UsageError(stderr, $"unknown option '{a}'.");
                    if (file is not null)
                        return UsageError(stderr, $"one manifest or model at a time ('{file}' and '{a}' given).");
                    file = a;
                    break;
            }
        }

        if (file is null)
            return UsageError(stderr, "triton-config needs a binding manifest or a model file.");
        bool isManifest = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        if (isManifest && profiles.Count > 0)
            return UsageError(stderr, "--profile applies to a model file; a manifest already has its profiles.");
        if (FileChecks.ModelProblem(file) is { } problem)
            return Fail(stderr, problem.Replace("not a model file", "not a manifest or model file", StringComparison.Ordinal));
        string role = isManifest ? "the manifest being read" : "the model being read";
        if (outFile is not null && FileChecks.OutProblem(outFile, file, "the Triton configuration", role, "config.pbtxt") is { } outProblem)
            return Fail(stderr, outProblem);

        BindingManifest manifest;
        try
        {
            manifest = isManifest
                ? ManifestSerializer.ReadFile(file)
                : EngineInspection.TryInspectWithTensorRt(file, writeSidecar: false, stderr)
                  ?? ModelInspector.Inspect(file, new InspectionOptions { Profiles = ProfileSpec.ParseAll(profiles) });
        }
        catch (ManifestException e)
        {
            return Fail(stderr, e.Message.StartsWith(file, StringComparison.Ordinal) ? e.Message : $"{file}: {e.Message}");
        }
        catch (ModelInspectionException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return Fail(stderr, e.Message);
        }
        catch (Exception e) when (e is TensorRtException or InvalidDataException)
        {
            return Fail(stderr, $"{file}: {e.Message}");
        }

        string config;
        try
        {
            config = TritonModelConfig.Generate(manifest, options);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            return Fail(stderr, $"{file}: {e.Message.Split(" (Parameter '", 2)[0]}");
        }

        int detected = TritonModelConfig.DetectMaxBatchSize(manifest);
        if (options.MaxBatchSize is int asked && detected > 0 && asked > detected)
            stderr.WriteLine($"typedtrt: note: --max-batch-size {asked} is above the largest batch of {file}'s optimization profile ({detected}); a TensorRT engine built with that profile refuses larger batches.");
        if (outFile is null)
        {
            stdout.Write(config);
            return Program.Ok;
        }

        try
        {
            bool written = SafeFileWriter.WriteIfChanged(outFile, Encoding.UTF8.GetBytes(config));
            stdout.WriteLine(written ? $"typedtrt: wrote {outFile}" : $"typedtrt: {outFile} is up to date");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return Fail(stderr, $"{outFile}: cannot write the Triton configuration: {e.Message}");
        }

        return Program.Ok;
    }

    private static bool TryCount(string v, int min, out int value) =>
        int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min;

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"typedtrt: {message}".ReplaceLineEndings(" "));
        return Program.BadInput;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"typedtrt: {message}");
        stderr.WriteLine(Usage);
        return Program.BadInput;
    }
}
