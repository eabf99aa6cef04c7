using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>Issue 10.4: no generator path throws; an unexpected exception is TTRT0099 naming the manifest, never CS8785 with no types.</summary>
public sealed class CrashProofTests
{
    private sealed class ThrowingText(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => throw new IOException("disk on fire");
    }

    [Fact]
    public void AnExceptionInsideTheGeneratorIsTTRT0099NamingTheManifest()
    {
        const string path = "/proj/obj/typedtrt/broken.bindings.json";
        var good = ManifestFile.Load("classifier.bindings.json");
        var texts = new AdditionalText[] { new ThrowingText(path), GeneratorHarness.ToAdditionalText(good) };
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new BindingGenerator().AsSourceGenerator()],
            texts,
            GeneratorHarness.ParseOptions,
            GeneratorHarness.CreateOptionsProvider([good]));
        driver = driver.RunGenerators(GeneratorHarness.CreateCompilation("class A {}"));
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Diagnostic d = Assert.Single(result.Diagnostics);
        Assert.Equal("TTRT0099", d.Id);
        Assert.Equal(path, d.Location.GetLineSpan().Path);
        Assert.Contains(path, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("disk on fire", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Single(result.GeneratedTrees); // the other manifest still generates
    }
}
