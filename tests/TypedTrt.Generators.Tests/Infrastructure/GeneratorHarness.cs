using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Analyzers;

namespace TypedTrt.Generators.Tests.Infrastructure;

/// <summary>A manifest as the generator sees it: a path, its text and its item metadata.</summary>
internal sealed record ManifestFile(string Path, string Text, IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>A manifest from tests/.../Manifests, placed at a fixed fake path so output does not depend on the machine.</summary>
    public static ManifestFile Load(string name, IReadOnlyDictionary<string, string>? metadata = null, string folder = "/proj/obj/typedtrt") =>
        new($"{folder}/{name}", File.ReadAllText(System.IO.Path.Combine(GeneratorHarness.TestDirectory, "Manifests", name)), metadata ?? Meta(("TypedTrtNamespace", "MyApp.Models")));

    public static IReadOnlyDictionary<string, string> Meta(params (string Key, string Value)[] pairs) =>
        pairs.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
}

internal static class GeneratorHarness
{
    public static string TestDirectory { get; } = TypedTrt.Tests.Shared.RepoPaths.Combine("tests", "TypedTrt.Generators.Tests");

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(System.IO.Path.PathSeparator).ToList();
        paths.Add(typeof(TypedTrt.Runtime.InferenceRunner).Assembly.Location);
        paths.Add(typeof(TypedTrt.Manifest.BindingManifest).Assembly.Location);
        return [.. paths.Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    public static CSharpParseOptions ParseOptions { get; } =
        new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"/proj/Source{i}.cs", encoding: Encoding.UTF8)),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    public static GeneratorDriver CreateDriver(IEnumerable<ManifestFile> manifests, bool trackSteps = true, string? rootNamespace = null) =>
        CreateDriver(manifests, out _, trackSteps, rootNamespace);

    public static GeneratorDriver CreateDriver(IEnumerable<ManifestFile> manifests, out List<AdditionalText> texts, bool trackSteps = true, string? rootNamespace = null)
    {
        var list = manifests.ToList();
        texts = [.. list.Select(ToAdditionalText)];
        return CSharpGeneratorDriver.Create(
            [new BindingGenerator().AsSourceGenerator()],
            texts,
            ParseOptions,
            CreateOptionsProvider(list, rootNamespace),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));
    }

    public static AdditionalText ToAdditionalText(ManifestFile m) => new InMemoryAdditionalText(m.Path, m.Text);

    public static AnalyzerConfigOptionsProvider CreateOptionsProvider(List<ManifestFile> manifests, string? rootNamespace = null) =>
        new TestOptionsProvider(manifests, rootNamespace);

    /// <summary>Runs the generator over manifests and compiles the result.</summary>
    public static GeneratorRun Run(IEnumerable<ManifestFile> manifests, params string[] sources)
    {
        var compilation = CreateCompilation(sources);
        GeneratorDriver driver = CreateDriver(manifests).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return new GeneratorRun(driver.GetRunResult(), output);
    }

    /// <summary>Runs the analyzer over a compilation (after generation).</summary>
    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation) =>
        compilation.WithAnalyzers([new TensorUsageAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    private sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class TestOptionsProvider(List<ManifestFile> manifests, string? rootNamespace) : AnalyzerConfigOptionsProvider
    {
        private readonly Dictionary<string, AnalyzerConfigOptions> _byPath = manifests.ToDictionary(
            m => m.Path,
            m => (AnalyzerConfigOptions)new Options((m.Metadata ?? new Dictionary<string, string>()).ToDictionary(kv => "build_metadata.AdditionalFiles." + kv.Key, kv => kv.Value)),
            StringComparer.Ordinal);

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(
            rootNamespace is null ? [] : new Dictionary<string, string> { ["build_property.RootNamespace"] = rootNamespace });

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            _byPath.TryGetValue(textFile.Path, out var o) ? o : new Options([]);

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
        }
    }
}

internal sealed record GeneratorRun(GeneratorDriverRunResult Result, Compilation Output)
{
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    public ImmutableArray<Diagnostic> CompileErrors =>
        [.. Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error || d.Id == "CS1591" || d.Id.StartsWith("CS8", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Warning)];

    public IReadOnlyList<(string HintName, string Text)> Sources =>
        [.. Result.Results.SelectMany(r => r.GeneratedSources).Select(s => (s.HintName, s.SourceText.ToString())).OrderBy(s => s.HintName, StringComparer.Ordinal)];
}
