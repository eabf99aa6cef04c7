using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;

namespace TypedTrt.Generators.Tests;

/// <summary>Each TTRT0xxx fires with a location in the manifest file; markup <c>{|TTRT0001:...|}</c> marks where.</summary>
public sealed class GeneratorDiagnosticTests
{
    private const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static string Manifest(string tensors, string schema = "\"typedtrt.bindings/v1\"", string sha = $"\"{Sha}\"") => $$"""
        {
          "schema": {{schema}},
          "source": { "kind": "onnx", "file": "m.onnx", "sha256": {{sha}}, "bytes": 1 },
          "tensors": [
        {{tensors}}
          ]
        }
        """;

    private const string GoodTensor = """    { "name": "x", "mode": "input", "dtype": "float", "shape": [2] }""";

    private static GeneratorRun Verify(string markup, IReadOnlyDictionary<string, string>? metadata = null, bool expectSource = true)
    {
        var (text, expected) = Markup.Parse(markup);
        const string path = "/proj/obj/typedtrt/m.bindings.json";
        GeneratorRun run = GeneratorHarness.Run([new ManifestFile(path, text, metadata ?? ManifestFile.Meta(("TypedTrtNamespace", "App")))]);
        var actual = run.GeneratorDiagnostics.Select(d => (d.Id, d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)).OrderBy(d => d.Start).ToList();
        Assert.Equal(expected.OrderBy(e => e.Start), actual);
        foreach (Diagnostic d in run.GeneratorDiagnostics)
        {
            Assert.Equal(path, d.Location.GetLineSpan().Path);
            Assert.True(d.Location.IsInSource || d.Location.Kind == LocationKind.ExternalFile);
            Assert.False(string.IsNullOrEmpty(d.Descriptor.HelpLinkUri));
            Assert.False(string.IsNullOrEmpty(d.Descriptor.Description.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(expectSource, run.Sources.Count == 1);
        if (expectSource)
            Assert.Empty(run.CompileErrors);
        return run;
    }

    [Fact]
    public void InvalidJsonReportsLineAndColumn()
    {
        var run = Verify(Manifest(GoodTensor + ",\n  {|TTRT0001:]|}"), expectSource: false);
        Diagnostic d = run.GeneratorDiagnostics.Single();
        var pos = d.Location.GetLineSpan().StartLinePosition;
        Assert.Contains($"(line {pos.Line + 1}, column {pos.Character + 1})", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
    }

    [Fact]
    public void UnterminatedDocument() =>
        Verify("{ \"schema\": \"typedtrt.bindings/v1\", \"tensors\": [{|TTRT0001:|}", expectSource: false);

    [Fact]
    public void UnsupportedSchema() =>
        Verify(Manifest(GoodTensor, schema: "{|TTRT0002:\"typedtrt.bindings/v2\"|}"), expectSource: false);

    [Fact]
    public void UnsupportedDataTypeIsSkippedWithWarning() =>
        Verify(Manifest(GoodTensor + ",\n    { \"name\": \"d\", \"mode\": \"input\", \"dtype\": {|TTRT0003:\"double\"|}, \"supported\": false, \"shape\": [2] }"));

    [Fact]
    public void InvalidManifestPointsAtTheValue() =>
        Verify(Manifest("    { \"name\": \"x\", \"mode\": {|TTRT0004:\"inout\"|}, \"dtype\": \"float\", \"shape\": [2] }"), expectSource: false);

    [Fact]
    public void MissingPropertyPointsAtTheObject() =>
        Verify("{|TTRT0004:{ \"schema\": \"typedtrt.bindings/v1\" }|}", expectSource: false);

    [Fact]
    public void ProfileOutsideStaticDimension() =>
        Verify($$"""
            { "schema": "typedtrt.bindings/v1", "source": { "kind": "onnx", "file": "m.onnx", "sha256": "{{Sha}}", "bytes": 1 },
              "tensors": [ { "name": "x", "mode": "input", "dtype": "float", "shape": [-1, 3] } ],
              "profiles": [ { "inputs": [ {|TTRT0004:{ "name": "x", "min": [1, 2], "opt": [1, 3], "max": [1, 3] }|} ] } ] }
            """, expectSource: false);

    [Fact]
    public void NameCollision() =>
        Verify(Manifest(GoodTensor + ",\n    { \"name\": {|TTRT0005:\"x.\"|}, \"mode\": \"input\", \"dtype\": \"float\", \"shape\": [2] },\n    { \"name\": \"X\", \"mode\": \"output\", \"dtype\": \"float\", \"shape\": [2] }")
            .Replace("\"name\": \"X\"", "\"name\": {|TTRT0005:\"X\"|}", StringComparison.Ordinal));

    [Fact]
    public void StaleSidecar() =>
        Verify(
            Manifest(GoodTensor, sha: $"{{|TTRT0006:\"{Sha}\"|}}"),
            ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtSourceFile", "models/m.onnx"), ("TypedTrtSourceSha256", new string('A', 64))));

    [Fact]
    public void MatchingHashIsSilent() =>
        Verify(Manifest(GoodTensor), ManifestFile.Meta(("TypedTrtNamespace", "App"), ("TypedTrtSourceSha256", Sha.ToUpperInvariant())));

    [Theory]
    [InlineData("TypedTrtClassName", "1Bad")]
    [InlineData("TypedTrtClassName", "class")]
    [InlineData("TypedTrtNamespace", "App..Models")]
    [InlineData("TypedTrtStreams", "0")]
    public void InvalidMetadata(string key, string value) =>
        Verify("{|TTRT0007:|}" + Manifest(GoodTensor), ManifestFile.Meta(("TypedTrtNamespace", "App"), (key, value)), expectSource: false);
}
