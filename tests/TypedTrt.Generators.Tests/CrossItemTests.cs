using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;
using static TypedTrt.Generators.Tests.Infrastructure.TestManifests;

namespace TypedTrt.Generators.Tests;

/// <summary>Issue 10.3: two items that would generate the same type are one TTRT0008 naming both files, not 48 compiler errors.</summary>
public sealed class CrossItemTests
{
    [Fact]
    public void SameFileNameInTwoFoldersWithoutClassName()
    {
        var encoder = new ManifestFile("/proj/obj/typedtrt/1111/model.bindings.json", Doc(Tensor("x")), ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtSourceFile", "/proj/models/encoder/model.onnx")));
        var decoder = new ManifestFile("/proj/obj/typedtrt/2222/model.bindings.json", Doc(Tensor("y")), ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtSourceFile", "/proj/models/decoder/model.onnx")));
        var run = GeneratorHarness.Run([encoder, decoder]);
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("TTRT0008", d.Id);
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("/proj/models/encoder/model.onnx", message, StringComparison.Ordinal);
        Assert.Contains("/proj/models/decoder/model.onnx", message, StringComparison.Ordinal);
        Assert.Contains("ClassName=\"DecoderModel\"", message, StringComparison.Ordinal);
        Assert.Equal("/proj/obj/typedtrt/2222/model.bindings.json", d.Location.GetLineSpan().Path);
        Assert.Single(run.Sources);
        Assert.Empty(WarningsAndErrors(run));
    }

    [Theory]
    [InlineData("Same", "Same")]
    [InlineData("Foo", "FooInput")]
    [InlineData("Runner", "IRunnerRunner")]
    public void ClassNamesWhoseTypesOverlap(string first, string second)
    {
        var a = new ManifestFile("/proj/a.bindings.json", Doc(Tensor("x")), ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtClassName", first)));
        var b = new ManifestFile("/proj/b.bindings.json", Doc(Tensor("y")), ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtClassName", second)));
        var run = GeneratorHarness.Run([a, b]);
        Assert.Equal(["TTRT0008"], run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(WarningsAndErrors(run));
    }

    [Fact]
    public void SameClassNameInDifferentNamespacesIsFine()
    {
        var a = new ManifestFile("/proj/a.bindings.json", Doc(Tensor("x")), ManifestFile.Meta(("TypedTrtNamespace", "App.A"), ("TypedTrtClassName", "Model")));
        var b = new ManifestFile("/proj/b.bindings.json", Doc(Tensor("y")), ManifestFile.Meta(("TypedTrtNamespace", "App.B"), ("TypedTrtClassName", "Model")));
        var run = GeneratorHarness.Run([a, b]);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(2, run.Sources.Count);
        Assert.Empty(WarningsAndErrors(run));
    }
}
