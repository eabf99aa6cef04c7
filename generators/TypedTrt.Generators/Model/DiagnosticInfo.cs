using Microsoft.CodeAnalysis.Text;

namespace TypedTrt.Generators.Model;

/// <summary>
/// A diagnostic to report, as plain data (a <see cref="Microsoft.CodeAnalysis.Location"/> is made only when reporting,
/// so the pipeline stays equatable).
/// </summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<string> Arguments);

/// <summary>
/// The result of parsing one manifest: a model to emit (null when the manifest is unusable), the types it claims, and
/// diagnostics.
/// </summary>
internal sealed record ParseResult(BindingModel? Model, TypeClaim? Claim, EquatableArray<DiagnosticInfo> Diagnostics);
