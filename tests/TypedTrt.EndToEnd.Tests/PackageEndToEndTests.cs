using System.Diagnostics;
using System.Text;

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// Packs the TypedTrt package into a local folder feed and builds a consumer project against it with <c>dotnet build</c>:
/// a checked-in <c>.bindings.json</c> sidecar and two real ONNX models inspected at build time by the inspector inside
/// the package, a no-op rebuild that does not re-inspect, and user code that fails the build with TTRT1001 (a constant
/// array of the wrong size) and TTRT1002 (a constant dynamic dim outside the profile).
/// </summary>
public sealed class PackageEndToEndTests(ITestOutputHelper output, PackedFeed packed)
{
    private static readonly string RepoRoot = TypedTrt.Tests.Shared.RepoPaths.Root;

    [Fact]
    public void ConsumerBuildsAgainstPackedPackage()
    {
        packed.EnsurePacked();
        string version = packed.Version;
        string root = Directory.CreateTempSubdirectory("typedtrt-e2e-app-").FullName;
        try
        {
            string app = Path.Combine(root, "app");
            string manifests = Path.Combine(RepoRoot, "tests", "TypedTrt.Generators.Tests", "Manifests");
            Directory.CreateDirectory(Path.Combine(app, "models", "vision"));
            File.Copy(Path.Combine(manifests, "detector.bindings.json"), Path.Combine(app, "models", "vision", "detector.bindings.json"));
            // A real exported ONNX model, inspected at build time by the inspector inside the package.
            File.Copy(Path.Combine(RepoRoot, "samples", "Digits", "model", "digits.onnx"), Path.Combine(app, "models", "digits.onnx"));
            File.Copy(Path.Combine(RepoRoot, "tests", "models", "uint8_bool.onnx"), Path.Combine(app, "models", "segmenter.onnx"));
            File.Copy(Path.Combine(RepoRoot, "samples", "Digits", "model", "samples.json"), Path.Combine(app, "samples.json"));
            packed.WriteNuGetConfig(app);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <OutputType>Exe</OutputType>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RootNamespace>Consumer.App</RootNamespace>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TypedTrt" Version="{version}" />
                    <PackageReference Include="TypedTrt.OnnxRuntime" Version="{version}" />
                    <TensorRTEngine Include="models/vision/detector.bindings.json" Streams="3" />
                    <TensorRTEngine Include="models/digits.onnx" ClassName="DigitClassifier" Namespace="Consumer.Vision" Profile="batch=1..32:8" />
                    <TensorRTEngine Include="models/segmenter.onnx" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Consumer.App;
                using Consumer.Vision;

                var detector = new DetectorInput { Images = new float[2 * Detector.Tensors.Images.MaxElementCount!.Value / 32], ImagesShape = [2, 3, 224, 224] };
                var digits = new DigitClassifierInput { Pixels = new float[4 * 64], PixelsShape = [4, 1, 8, 8] };
                Console.WriteLine($"{Detector.DefaultStreams} {detector.Images.Length} {DigitClassifier.Tensors.Probabilities.Name} {digits.Pixels.Length} {DigitClassifier.Tensors.Pixels.MaxShape[0]} {DigitClassifier.Signature.Tensors.Count}");

                // Real inference on ONNX Runtime from the packed TypedTrt.OnnxRuntime; the model file was copied to the
                // output folder by the TensorRTEngine item. Every held-out digit must be classified as labelled.
                using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes("samples.json"));
                var samples = json.RootElement.GetProperty("samples").EnumerateArray()
                    .Select(e => (Label: e.GetProperty("label").GetInt32(), Pixels: e.GetProperty("pixels").EnumerateArray().Select(v => v.GetSingle()).ToArray()))
                    .ToArray();
                using var engine = TypedTrt.OnnxRuntime.OnnxRuntimeEngine.Load(Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx"), DigitClassifier.Signature);
                await using var runner = new DigitClassifierRunner(engine, 2);
                var output = await runner.RunAsync(new DigitClassifierInput { Pixels = samples.SelectMany(s => s.Pixels).ToArray(), PixelsShape = [samples.Length, 1, 8, 8] });
                int correct = 0;
                double worstSum = 0;
                for (int i = 0; i < samples.Length; i++)
                {
                    var p = output.Probabilities.AsSpan(i * 10, 10);
                    int best = 0;
                    double sum = 0;
                    for (int k = 0; k < 10; k++) { sum += p[k]; if (p[k] > p[best]) best = k; }
                    worstSum = Math.Max(worstSum, Math.Abs(sum - 1));
                    correct += best == samples[i].Label ? 1 : 0;
                }
                Console.WriteLine($"inference {correct}/{samples.Length} shape [{string.Join(",", output.ProbabilitiesShape)}] sum-error-ok {worstSum < 1e-4}");
                """);

            Run(app, ["build"]);
            string manifest = Directory.GetFiles(Path.Combine(app, "obj"), "digits.bindings.json", SearchOption.AllDirectories).Single();
            var written = File.GetLastWriteTimeUtc(manifest);
            Assert.Contains("\"max\": [32, 1, 8, 8]", File.ReadAllText(manifest), StringComparison.Ordinal);
            string result = Run(app, ["run", "--no-build"]);
            Assert.Contains("3 301056 probabilities 256 32 3", result, StringComparison.Ordinal);
            Assert.Contains("inference 24/24 shape [24,10] sum-error-ok True", result, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(app, "bin", "Debug", "net10.0", "models", "digits.onnx")), "the TensorRTEngine model is copied to the output folder");

            // No-op build: the inspector does not run again (it touches the manifest whenever it runs).
            Run(app, ["build"]);
            Assert.Equal(written, File.GetLastWriteTimeUtc(manifest));

            // A constant array of the wrong size is a build error from the analyzer.
            File.WriteAllText(Path.Combine(app, "Bad.cs"), """
                static class Bad
                {
                    public static Consumer.App.SegmenterInput Make() => new()
                    {
                        Image = new byte[100],
                    };

                    public static Consumer.Vision.DigitClassifierInput TooBig() => new() { Pixels = new float[64], PixelsShape = [64, 1, 8, 8] };
                }
                """);
            string failed = Run(app, ["build"], expectSuccess: false);
            output.WriteLine(string.Join('\n', failed.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal)).Distinct()));
            Assert.Matches(@"Bad\.cs\(5,17\): error TTRT1001: 'SegmenterInput\.Image' needs exactly 768 elements, but this array has 100", failed);
            Assert.Matches(@"Bad\.cs\(8,\d+\): error TTRT1002: .*64", failed);
            Assert.DoesNotMatch(@"Program\.cs\(\d+,\d+\): error", failed);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string Run(string directory, string[] args, bool expectSuccess = true)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        string text = stdout.ToString();
        output.WriteLine($"$ dotnet {string.Join(' ', args)}  (in {directory}) -> {p.ExitCode}");
        if ((p.ExitCode == 0) != expectSuccess)
            Assert.Fail($"dotnet {string.Join(' ', args)} exited with {p.ExitCode}:\n{text}");
        return text;
    }

}
