using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Model;

namespace TypedTrt.Generators;

/// <summary>
/// Generates typed bindings (a description class, input/output types, a typed lease and a runner) for every
/// <c>*.bindings.json</c> additional file. The pipeline only wires steps; <see cref="Parser"/> reads, <see cref="Emitter"/> writes.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class BindingGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (for incrementality tests).</summary>
    internal static class Steps
    {
        public const string Input = "TypedTrt.Input";
        public const string Parse = "TypedTrt.Parse";
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

        IncrementalValuesProvider<BindingModel> models = results
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(Steps.Model);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(Steps.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, model) =>
            spc.AddSource(model.HintName, SourceText.From(Emitter.Emit(model), System.Text.Encoding.UTF8)));

        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (DiagnosticInfo d in list)
            {
                var location = Location.Create(d.FilePath, d.Span, d.LineSpan);
                object[] args = new object[d.Arguments.Count];
                for (int i = 0; i < args.Length; i++)
                    args[i] = d.Arguments[i];
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.Get(d.Id), location, args));
            }
        });
    }
}
