using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Build cost: generation time for a 500-tensor manifest (target well under 50 ms). Reports numbers; asserts only
/// that generation succeeded, never a time.
/// </summary>
public sealed class GenerationBenchmark(ITestOutputHelper output)
{
    public static string LargeManifest(int tensors)
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"schema\": \"typedtrt.bindings/v1\",\n  \"source\": { \"kind\": \"tensorrt-engine\", \"file\": \"big.engine\", \"sha256\": \"")
          .Append('a', 64).Append("\", \"bytes\": 1 },\n  \"tensors\": [\n");
        var profile = new StringBuilder();
        for (int i = 0; i < tensors; i++)
        {
            bool input = i < tensors / 2;
            bool dynamic = i % 2 == 0;
            string dtype = (i % 4) switch { 0 => "float", 1 => "half", 2 => "int64", _ => "uint8" };
            sb.Append(CultureInfo.InvariantCulture, $"    {{ \"name\": \"block_{i}/tensor:0\", \"mode\": \"{(input ? "input" : "output")}\", \"dtype\": \"{dtype}\", \"shape\": [{(dynamic ? "-1" : "4")}, 3, 64, 64], \"dimNames\": [\"{(dynamic ? "batch" : "")}\", \"\", \"\", \"\"] }}");
            sb.Append(i + 1 < tensors ? ",\n" : "\n");
            if (input && dynamic)
            {
                if (profile.Length > 0)
                    profile.Append(",\n");
                profile.Append(CultureInfo.InvariantCulture, $"      {{ \"name\": \"block_{i}/tensor:0\", \"min\": [1, 3, 64, 64], \"opt\": [4, 3, 64, 64], \"max\": [16, 3, 64, 64] }}");
            }
        }

        sb.Append("  ],\n  \"profiles\": [ { \"inputs\": [\n").Append(profile).Append("\n  ] } ]\n}\n");
        return sb.ToString();
    }

    [Fact]
    public void FiveHundredTensors()
    {
        string json = LargeManifest(500);
        var manifest = new ManifestFile("/proj/obj/typedtrt/big.bindings.json", json, ManifestFile.Meta(("TypedTrtNamespace", "Bench")));
        var compilation = GeneratorHarness.CreateCompilation("class A {}");

        var cold = Stopwatch.StartNew();
        var driver = GeneratorHarness.CreateDriver([manifest], trackSteps: false).RunGenerators(compilation);
        cold.Stop();
        Assert.Empty(driver.GetRunResult().Diagnostics);
        int length = driver.GetRunResult().GeneratedTrees.Single().Length;

        var samples = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            var sw = Stopwatch.StartNew();
            GeneratorHarness.CreateDriver([manifest], trackSteps: false).RunGenerators(compilation);
            samples.Add(sw.Elapsed.TotalMilliseconds);
        }

        samples.Sort();

        // The generator's own work (parse the manifest, build the model, emit C#) without the driver, which also
        // parses the generated text into a syntax tree.
        var input = new TypedTrt.Generators.Model.ManifestInput(manifest.Path, json, null, "Bench", null, null, null);
        var own = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            var sw = Stopwatch.StartNew();
            var result = BindingGenerator.Parser.Parse(input, CancellationToken.None);
            _ = BindingGenerator.Emitter.Emit(result.Model!);
            own.Add(sw.Elapsed.TotalMilliseconds);
        }

        own.Sort();
        string report = string.Create(CultureInfo.InvariantCulture,
            $"500-tensor manifest ({json.Length / 1024} KiB JSON -> {length / 1024} KiB C#): first run {cold.Elapsed.TotalMilliseconds:F1} ms (JIT included), warm median {samples[samples.Count / 2]:F1} ms, min {samples[0]:F1} ms; generator's own parse+emit: warm median {own[own.Count / 2]:F1} ms, min {own[0]:F1} ms");
        output.WriteLine(report);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "generation-benchmark.txt"), report + "\n");
    }
}
