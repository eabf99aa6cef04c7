namespace TypedTrt.Generators.Model;

/// <summary>The types one manifest would generate, for the check that no two items generate the same type.</summary>
/// <param name="Namespace">The namespace, or empty.</param>
/// <param name="ClassName">The descriptor class's name.</param>
/// <param name="ManifestPath">The manifest's path.</param>
/// <param name="SourceFile">The model file it was made from, when MSBuild passed it.</param>
/// <param name="ExplicitClassName">Whether ClassName came from the item's metadata (else from the file name).</param>
internal sealed record TypeClaim(string Namespace, string ClassName, string ManifestPath, string? SourceFile, bool ExplicitClassName);

/// <summary>The result of the cross-item check: manifests that must not generate, and the errors saying why.</summary>
internal sealed record ConflictResult(EquatableArray<string> BlockedPaths, EquatableArray<DiagnosticInfo> Diagnostics);
