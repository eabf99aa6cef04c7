using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Model;

namespace TypedTrt.Generators;

/// <summary>
/// Generates typed bindings (a descriptor class, input/output types, a typed lease, a runner and its interface) for
/// every <c>*.bindings.json</c> additional file. The pipeline only wires steps; <see cref="Parser"/> reads,
/// <see cref="Emitter"/> writes. No step can throw: failures are TTRT diagnostics naming the manifest.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class BindingGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (for incrementality tests).</summary>
    internal static class Steps
    {
        public const string Input = "TypedTrt.Input";
        public const string Parse = "TypedTrt.Parse";
        public const string Conflicts = "TypedTrt.Conflicts";
        public const string Model = "TypedTrt.Model";
        public const string Diagnostics = "TypedTrt.Diagnostics";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ManifestInput> inputs = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(Parser.ManifestSuffix, StringComparison.OrdinalIgnoreCase))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) => Parser.ReadInput(pair.Left, pair.Right, ct))
            .WithTrackingName(Steps.Input);

        IncrementalValuesProvider<ParseResult> results = inputs
            .Select(static (input, ct) => Parser.Parse(input, ct))
            .WithTrackingName(Steps.Parse);

        // Two items that would generate the same type: only the claims (names and paths) are compared, so editing a
        // manifest's content does not re-run this.
        IncrementalValueProvider<ConflictResult> conflicts = results
            .Select(static (r, _) => r.Claim)
            .Collect()
            .Select(static (claims, _) => FindConflictsSafely(claims))
            .WithTrackingName(Steps.Conflicts);

        IncrementalValuesProvider<BindingModel> models = results
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .Combine(conflicts.Select(static (c, _) => c.BlockedPaths))
            .Where(static pair => !Contains(pair.Right, pair.Left.ManifestPath))
            .Select(static (pair, _) => pair.Left)
            .WithTrackingName(Steps.Model);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(Steps.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            string text;
            try
            {
                text = Emitter.Emit(model);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                spc.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.InternalError,
                    Location.Create(model.ManifestPath, default, default),
                    model.ManifestPath,
                    e.GetType().Name + ": " + e.Message));
                return;
            }

            spc.AddSource(model.HintName, SourceText.From(text, System.Text.Encoding.UTF8));
        });

        context.RegisterSourceOutput(diagnostics, static (spc, list) => Report(spc, list));
        context.RegisterSourceOutput(conflicts.Select(static (c, _) => c.Diagnostics), static (spc, list) => Report(spc, list));
    }

    private static ConflictResult FindConflictsSafely(ImmutableArray<TypeClaim?> claims)
    {
        try
        {
            return Parser.FindConflicts(claims);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var info = new DiagnosticInfo(DiagnosticDescriptors.InternalError.Id, "", default, default, new[] { "the set of manifests", e.GetType().Name + ": " + e.Message }.ToEquatableArray());
            return new ConflictResult(EquatableArray<string>.Empty, new[] { info }.ToEquatableArray());
        }
    }

    private static bool Contains(EquatableArray<string> paths, string path)
    {
        foreach (string p in paths)
        {
            if (string.Equals(p, path, StringComparison.Ordinal))
                return true;
        }

        return false;
    }

    private static void Report(SourceProductionContext spc, EquatableArray<DiagnosticInfo> list)
    {
        foreach (DiagnosticInfo d in list)
        {
            Location location = d.FilePath.Length == 0 ? Location.None : Location.Create(d.FilePath, d.Span, d.LineSpan);
            object[] args = new object[d.Arguments.Count];
            for (int i = 0; i < args.Length; i++)
                args[i] = d.Arguments[i];
            spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.Get(d.Id), location, args));
        }
    }
}
