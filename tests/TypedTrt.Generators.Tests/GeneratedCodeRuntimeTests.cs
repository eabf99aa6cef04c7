using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Runs generated code: the embedded manifest must parse with the runtime's own reader (the generator's reader must
/// not accept what the runtime rejects), and a runner must refuse an engine whose tensors differ.
/// </summary>
public sealed class GeneratedCodeRuntimeTests
{
    private static Assembly Load(ManifestFile manifest)
    {
        GeneratorRun run = GeneratorHarness.Run([manifest]);
        using var pe = new MemoryStream();
        var result = run.Output.Emit(pe);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        pe.Position = 0;
        return new AssemblyLoadContext(manifest.Path, isCollectible: true).LoadFromStream(pe);
    }

    [Theory]
    [InlineData("classifier.bindings.json", "Classifier", 2)]
    [InlineData("detector.bindings.json", "Detector", 3)]
    [InlineData("encoder.bindings.json", "Encoder", 5)]
    [InlineData("dtypes.bindings.json", "Dtypes", 26)]
    [InlineData("odd-names.bindings.json", "OddNames", 12)]
    public void EmbeddedManifestParsesWithTheRuntimeReader(string file, string className, int tensors)
    {
        var manifest = ManifestFile.Load(file);
        Assembly assembly = Load(manifest);
        Type description = assembly.GetType("MyApp.Models." + className, throwOnError: true)!;
        var signature = (BindingManifest)description.GetProperty("Signature")!.GetValue(null)!;
        Assert.Equal(tensors, signature.Tensors.Count);
        Assert.Equal(ManifestSerializer.SerializeToString(ManifestSerializer.Deserialize(manifest.Text)), ManifestSerializer.SerializeToString(signature));
    }

    [Fact]
    public void RunnerRefusesAnEngineWithOtherTensors()
    {
        Assembly assembly = Load(ManifestFile.Load("detector.bindings.json"));
        Type runner = assembly.GetType("MyApp.Models.DetectorRunner", throwOnError: true)!;
        var other = ManifestSerializer.Deserialize(File.ReadAllText(Path.Combine(GeneratorHarness.TestDirectory, "Manifests", "classifier.bindings.json")));
        var e = Assert.Throws<TargetInvocationException>(() => Activator.CreateInstance(runner, new FakeEngine(other), 2));
        var argument = Assert.IsType<ArgumentException>(e.InnerException);
        Assert.Contains("regenerate the bindings", argument.Message, StringComparison.Ordinal);
    }

    private sealed class FakeEngine(BindingManifest signature) : IInferenceEngine
    {
        public BindingManifest Signature => signature;

        public BufferPlacement Placement => BufferPlacement.Host;

        public IEngineContext CreateContext() => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
