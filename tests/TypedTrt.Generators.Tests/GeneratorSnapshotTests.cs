using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>Snapshot tests of generated code; each also compiles the output (no errors, no missing XML docs).</summary>
public sealed class GeneratorSnapshotTests
{
    private static GeneratorRun RunAndCompile(params ManifestFile[] manifests) => RunAndCompile(manifests, []);

    private static GeneratorRun RunAndCompile(ManifestFile[] manifests, string[] sources)
    {
        GeneratorRun run = GeneratorHarness.Run(manifests, sources);
        Assert.True(run.CompileErrors.IsEmpty, "Generated code does not compile cleanly:\n" + string.Join("\n", run.CompileErrors.Select(d => d.ToString())));
        return run;
    }

    [Fact]
    public void StaticClassifier()
    {
        var run = RunAndCompile(ManifestFile.Load("classifier.bindings.json"));
        Assert.Empty(run.GeneratorDiagnostics);
        Snapshot.Verify(run);
    }

    [Fact]
    public void DynamicDetector()
    {
        var run = RunAndCompile(ManifestFile.Load("detector.bindings.json", ManifestFile.Meta(("TypedTrtNamespace", "MyApp.Models"), ("TypedTrtClassName", "Detector"), ("TypedTrtStreams", "4"))));
        Assert.Empty(run.GeneratorDiagnostics);
        Snapshot.Verify(run);
    }

    [Fact]
    public void MultiInputOutputEncoder()
    {
        var run = RunAndCompile(ManifestFile.Load("encoder.bindings.json"));
        Assert.Empty(run.GeneratorDiagnostics);
        Snapshot.Verify(run);
    }

    [Fact]
    public void EveryDataType()
    {
        var run = RunAndCompile(ManifestFile.Load("dtypes.bindings.json"));
        Assert.Equal(["TTRT0003"], run.GeneratorDiagnostics.Select(d => d.Id));
        Snapshot.Verify(run);
    }

    [Fact]
    public void OddNames()
    {
        var run = RunAndCompile(ManifestFile.Load("odd-names.bindings.json"));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("TTRT0005", d.Id));
        Snapshot.Verify(run);
    }

    /// <summary>
    /// Issue 11: a scalar input is a plain property; a dynamic input without a range is TTRT0010; outputs whose dims no
    /// input determines (Paddle2ONNX's per-output symbols, unnamed dims) say "shape known after the run".
    /// </summary>
    [Fact]
    public void ScalarsAndShapesKnownAfterTheRun()
    {
        var run = RunAndCompile(ManifestFile.Load("paddle.bindings.json"));
        Assert.Equal(["TTRT0010"], run.GeneratorDiagnostics.Select(d => d.Id));
        string text = run.Sources.Single().Text;
        Assert.Contains("public required float Threshold { get; set; }", text, StringComparison.Ordinal);
        Assert.Contains("public required long Count { get; init; }", text, StringComparison.Ordinal);
        Assert.Contains("Output 'boxes': float [p2o.DynamicDimension.3, 4]; shape known after the run (dimension 0).", text, StringComparison.Ordinal);
        Assert.Contains("Output 'hidden': float [2, ?, 128]; shape known after the run (dimension 1).", text, StringComparison.Ordinal);
        Assert.DoesNotContain("'maps': float [p2o.DynamicDimension.0, 1, p2o.DynamicDimension.1, p2o.DynamicDimension.2]; shape known", text, StringComparison.Ordinal);
        Snapshot.Verify(run);
    }

    [Fact]
    public void RootNamespaceAndFileNameDefaults()
    {
        var manifest = ManifestFile.Load("classifier.bindings.json", metadata: ManifestFile.Meta());
        var compilation = GeneratorHarness.CreateCompilation();
        var driver = GeneratorHarness.CreateDriver([manifest], rootNamespace: "Consumer.App").RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.NotNull(output.GetTypeByMetadataName("Consumer.App.Classifier"));
        Assert.NotNull(output.GetTypeByMetadataName("Consumer.App.ClassifierRunner"));
        Assert.Single(driver.GetRunResult().GeneratedTrees);
    }

    [Fact]
    public void SameFileNameInTwoFoldersGetsDistinctHintNames()
    {
        var a = ManifestFile.Load("classifier.bindings.json", ManifestFile.Meta(("TypedTrtNamespace", "App.A")), folder: "/proj/obj/typedtrt/a");
        var b = ManifestFile.Load("classifier.bindings.json", ManifestFile.Meta(("TypedTrtNamespace", "App.A")), folder: "/proj/obj/typedtrt/b");
        b = b with { Metadata = ManifestFile.Meta(("TypedTrtNamespace", "App.B")) };
        var run = RunAndCompile(a, b);
        Assert.Equal(2, run.Sources.Select(s => s.HintName).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void GeneratedApiIsPleasantToUse()
    {
        // The shape of user code the generated API is designed for; it must compile without warnings.
        const string usage = """
            using System;
            using System.Threading.Tasks;
            using MyApp.Models;
            using TypedTrt.Runtime.Engine;

            /// <summary>Typical use.</summary>
            public static class Usage
            {
                /// <summary>Copying API.</summary>
                public static async Task<float> RunAsync(IInferenceEngine engine, float[] pixels, int batch)
                {
                    await using var runner = new DetectorRunner(engine);
                    DetectorOutput output = await runner.RunAsync(new DetectorInput
                    {
                        Images = pixels,
                        ImagesShape = [batch, 3, 224, 224],
                    });
                    float first = output.Boxes[0];
                    long n = output.BoxesShape[0];
                    Half s = output.Scores[0];

                    using (DetectorLease lease = await runner.AcquireAsync())
                    {
                        Fill(lease, pixels, batch);
                        await lease.RunAsync();
                        first += Read(lease);
                    }

                    return first + n + (float)s + Detector.Tensors.Images.MaxShape[0] + Detector.Signature.Tensors.Count + Detector.Tensors.Images.Index;
                }

                /// <summary>Zero-copy input (spans cannot live in async methods before C# 13).</summary>
                public static void Fill(DetectorLease lease, float[] pixels, int batch)
                {
                    lease.Inputs.SetImagesShape([batch, 3, 224, 224]);
                    pixels.CopyTo(lease.Inputs.Images);
                }

                /// <summary>Zero-copy output.</summary>
                public static float Read(DetectorLease lease)
                {
                    ReadOnlySpan<float> boxes = lease.Outputs.Boxes;
                    return boxes[0] + lease.Outputs.BoxesShape[0];
                }
            }
            """;
        var run = RunAndCompile([ManifestFile.Load("detector.bindings.json")], [usage]);
        Assert.Empty(run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591"));
    }
}
