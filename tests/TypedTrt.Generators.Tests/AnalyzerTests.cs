using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// The TTRT1xxx analyzer over plain C# snippets using generated types. Expected diagnostics are marked
/// <c>{|TTRT1001:...|}</c>; every other place must stay silent.
/// </summary>
public sealed class AnalyzerTests
{
    private const string Usings = """
        using System;
        using MyApp.Models;
        using TypedTrt.Runtime.Engine;

        """;

    private static void Verify(string markup)
    {
        var (code, expected) = Markup.Parse(Usings + markup);
        GeneratorRun run = GeneratorHarness.Run(
            [ManifestFile.Load("classifier.bindings.json"), ManifestFile.Load("detector.bindings.json"), ManifestFile.Load("encoder.bindings.json")],
            code);
        var compileErrors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(compileErrors.Count == 0, "Snippet does not compile:\n" + string.Join("\n", compileErrors));

        var actual = GeneratorHarness.Analyze(run.Output)
            .Select(d => (d.Id, d.Location.SourceSpan.Start, d.Location.SourceSpan.Length, Message: d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(d => d.Start)
            .ToList();
        Assert.All(actual, d => Assert.True(d.Message.Length > 0));
        Assert.Equal(
            expected.Select(e => $"{e.Id}@{code.Substring(e.Start, e.Length)}").OrderBy(s => s, StringComparer.Ordinal),
            actual.Select(a => $"{a.Id}@{code.Substring(a.Start, a.Length)}").OrderBy(s => s, StringComparer.Ordinal));
        Assert.Equal(expected.Select(e => (e.Id, e.Start)).Order(), actual.Select(a => (a.Id, a.Start)).Order());
    }

    [Fact]
    public void WrongConstantArrayLengthForStaticInput()
    {
        Verify("""
            static class C
            {
                static ClassifierInput A() => new ClassifierInput { Images = {|TTRT1001:new float[10]|} };
                static void B(ClassifierInput input) => input.Images = {|TTRT1001:new float[150527]|};
                static void D(ClassifierInput input) => input.Images = new ReadOnlyMemory<float>({|TTRT1001:new float[3]|});
                static void E(ClassifierInput input) => input.Images = {|TTRT1001:new float[] { 1, 2, 3 }|};
            }
            """);
    }

    [Fact]
    public void CorrectOrUnknownLengthsAreSilent()
    {
        Verify("""
            static class C
            {
                static ClassifierInput A() => new ClassifierInput { Images = new float[150528] };
                static ClassifierInput B() => new ClassifierInput { Images = new float[Classifier.Tensors.Images.ElementCount!.Value] };
                static ClassifierInput D(int n) => new ClassifierInput { Images = new float[n] };
                static ClassifierInput E(float[] data) => new ClassifierInput { Images = data };
                static float[] F() => new float[10];
                static void G(ReadOnlySpan<long> shape) { }
                static void H() => G([64, 3, 224, 224]);
                static DetectorInput I(float[] pixels) => new DetectorInput { Images = new float[10] };
            }
            """);
    }

    [Fact]
    public void DynamicDimensionOutsideProfile()
    {
        Verify("""
            static class C
            {
                static DetectorInput A(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = [{|TTRT1002:64|}, 3, 224, 224] };
                static DetectorInput B(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = new long[] { {|TTRT1002:0|}, 3, 224, 224 } };
                static void D(DetectorLease lease) => lease.Inputs.SetImagesShape(stackalloc long[] { {|TTRT1002:33|}, 3, 224, 224 });
                static void E(DetectorLease lease) => lease.Inputs.SetImagesShape([{|TTRT1002:100|}, 3, 224, 224]);
                static void F(EncoderInput input) => input.EncoderInputIds0Shape = [4, {|TTRT1002:1024|}];
            }
            """);
    }

    [Fact]
    public void ShapesWithinProfileAreSilent()
    {
        Verify("""
            static class C
            {
                static DetectorInput A(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = [32, 3, 224, 224] };
                static DetectorInput B(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = new long[] { 1, 3, 224, 224 } };
                static void D(DetectorLease lease, int n) => lease.Inputs.SetImagesShape([n, 3, 224, 224]);
                static void E(DetectorLease lease, long[] shape) => lease.Inputs.SetImagesShape(shape);
                static void F(EncoderInput input, long[] s) => input.EncoderInputIds0Shape = [.. s];
                static void G(EncoderInput input) => input.EncoderInputIds0Shape = [16, 512];
            }
            """);
    }

    [Fact]
    public void WrongRankAndStaticDimension()
    {
        Verify("""
            static class C
            {
                static DetectorInput A(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = {|TTRT1003:[8, 3, 224]|} };
                static void B(DetectorLease lease) => lease.Inputs.SetImagesShape({|TTRT1003:stackalloc long[5]|});
                static DetectorInput D(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = [8, {|TTRT1004:4|}, 224, 224] };
                static DetectorInput E(float[] pixels) => new DetectorInput { Images = pixels, ImagesShape = {|TTRT1003:new long[] { 8 }|} };
            }
            """);
    }
}
