using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>The pipeline caches by content: nothing re-runs unless a manifest or its metadata changes.</summary>
public sealed class IncrementalityTests
{
    private static readonly string[] TrackedSteps =
        [BindingGenerator.Steps.Input, BindingGenerator.Steps.Parse, BindingGenerator.Steps.Model, BindingGenerator.Steps.Diagnostics];

    private static IEnumerable<(string Step, IncrementalStepRunReason Reason)> Reasons(GeneratorDriver driver)
    {
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (var (name, runs) in result.TrackedSteps.Where(kv => TrackedSteps.Contains(kv.Key)))
        {
            foreach (var run in runs)
            {
                foreach (var output in run.Outputs)
                    yield return (name, output.Reason);
            }
        }

        foreach (var (name, runs) in result.TrackedOutputSteps)
        {
            foreach (var run in runs)
            {
                foreach (var output in run.Outputs)
                    yield return (name, output.Reason);
            }
        }
    }

    private static void AssertAllCached(GeneratorDriver driver)
    {
        var reasons = Reasons(driver).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.True(
            r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"step {r.Step} ran with reason {r.Reason}"));
    }

    [Fact]
    public void SecondRunIsFullyCached()
    {
        var compilation = GeneratorHarness.CreateCompilation("class A {}");
        GeneratorDriver driver = GeneratorHarness.CreateDriver([ManifestFile.Load("detector.bindings.json"), ManifestFile.Load("dtypes.bindings.json")]);
        driver = driver.RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.Clone());
        AssertAllCached(driver);
        // Every named step exists (a renamed step would make this test vacuous).
        var steps = driver.GetRunResult().Results.Single().TrackedSteps.Keys.ToHashSet();
        Assert.Superset(TrackedSteps.ToHashSet(), steps);
    }

    [Fact]
    public void UnrelatedEditDoesNotRegenerate()
    {
        var compilation = GeneratorHarness.CreateCompilation("class A {}");
        GeneratorDriver driver = GeneratorHarness.CreateDriver([ManifestFile.Load("detector.bindings.json")]);
        driver = driver.RunGenerators(compilation);
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText("class A { int X; }", GeneratorHarness.ParseOptions, "/proj/Source0.cs"))
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText("class B {}", GeneratorHarness.ParseOptions, "/proj/B.cs"));
        driver = driver.RunGenerators(edited);
        AssertAllCached(driver);
        Assert.All(driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(r => r.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void ManifestChangeRegenerates()
    {
        var manifest = ManifestFile.Load("detector.bindings.json");
        var compilation = GeneratorHarness.CreateCompilation("class A {}");
        GeneratorDriver driver = GeneratorHarness.CreateDriver([manifest], out var texts).RunGenerators(compilation);
        string before = driver.GetRunResult().GeneratedTrees.Single().ToString();

        var changed = manifest with { Text = manifest.Text.Replace("[32, 3, 224, 224]", "[64, 3, 224, 224]", StringComparison.Ordinal) };
        driver = driver.ReplaceAdditionalText(texts[0], GeneratorHarness.ToAdditionalText(changed)).RunGenerators(compilation);

        var reasons = Reasons(driver).ToList();
        Assert.Contains((BindingGenerator.Steps.Model, IncrementalStepRunReason.Modified), reasons);
        Assert.Contains(reasons, r => r.Step == "SourceOutput" && r.Reason == IncrementalStepRunReason.Modified);
        string after = driver.GetRunResult().GeneratedTrees.Single().ToString();
        Assert.NotEqual(before, after);
        Assert.Contains("TensorDimRange(0, 1, 64)", after, StringComparison.Ordinal);
    }

    [Fact]
    public void DiagnosticOnlyChangeDoesNotRegenerateSource()
    {
        // Only the stale-hash metadata changes: a new diagnostic, the same model, so the source output does not re-run.
        var fresh = ManifestFile.Load("detector.bindings.json");
        var stale = fresh with { Metadata = ManifestFile.Meta(("TypedTrtNamespace", "MyApp.Models"), ("TypedTrtSourceSha256", new string('0', 64))) };
        var compilation = GeneratorHarness.CreateCompilation("class A {}");
        GeneratorDriver driver = GeneratorHarness.CreateDriver([fresh]).RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().Diagnostics);

        driver = driver.WithUpdatedAnalyzerConfigOptions(GeneratorHarness.CreateOptionsProvider([stale])).RunGenerators(compilation);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal(["TTRT0006"], result.Diagnostics.Select(d => d.Id));
        Assert.All(result.TrackedSteps[BindingGenerator.Steps.Parse].SelectMany(r => r.Outputs), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        // The model is equal, so the step is Unchanged, or Cached when an earlier step of its chain already was.
        Assert.All(result.TrackedSteps[BindingGenerator.Steps.Model].SelectMany(r => r.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, o.Reason.ToString()));
        var sourceRuns = result.TrackedOutputSteps["SourceOutput"]
            .Where(r => r.Inputs.Any(i => i.Source.Name == BindingGenerator.Steps.Model))
            .SelectMany(r => r.Outputs)
            .ToList();
        Assert.NotEmpty(sourceRuns);
        Assert.All(sourceRuns, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }
}
