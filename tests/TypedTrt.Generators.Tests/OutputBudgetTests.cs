using System.Globalization;
using System.Text;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 13.2's size budget, which is deterministic (times are measured by tests/TypedTrt.Generators.Benchmark, never
/// asserted here): a 500-tensor manifest generates at most 400 KB (400,000 bytes) of C#, a one-input/one-output model at most 15 KB,
/// and no helper block (CheckSignature, CheckShape, CopyInput...) appears in generated code.
/// </summary>
public sealed class OutputBudgetTests
{
    /// <summary>The benchmark's manifest: half inputs (every other one dynamic with a profile range), half outputs, four dtypes.</summary>
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
    public void FiveHundredTensorsFitTheBudget()
    {
        var run = GeneratorHarness.Run([new ManifestFile("/proj/obj/typedtrt/big.bindings.json", LargeManifest(500), ManifestFile.Meta(("TypedTrtNamespace", "Bench")))]);
        Assert.Empty(run.GeneratorDiagnostics);
        int bytes = Encoding.UTF8.GetByteCount(run.Sources.Single().Text);
        Assert.True(bytes <= 400 * 1000, $"{bytes} bytes");
        Assert.Empty(run.CompileErrors);
    }

    [Fact]
    public void OneInputOneOutputFitsTheBudget()
    {
        var run = GeneratorHarness.Run([ManifestFile.Load("classifier.bindings.json")]);
        string text = run.Sources.Single().Text;
        Assert.True(Encoding.UTF8.GetByteCount(text) <= 15 * 1000, $"{Encoding.UTF8.GetByteCount(text)} bytes");
        foreach (string helper in new[] { "CheckSignature", "ProfileRange", "CheckShape", "CheckLength", "CopyInput", "throw new" })
            Assert.DoesNotContain(helper, text, StringComparison.Ordinal);
    }
}
