using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Model;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Parser
    {
        /// <summary>The types a manifest generates for a class name.</summary>
        internal static string[] GeneratedTypeNames(string className) =>
            [className, className + "Input", className + "Output", className + "Lease", className + "Runner", "I" + className + "Runner"];

        /// <summary>
        /// Finds items that would generate the same type (the common <c>encoder/model.onnx</c> + <c>decoder/model.onnx</c>
        /// layout without ClassName, or one ClassName twice). The first manifest by path generates; every other one is
        /// blocked with TTRT0008 naming both files and the ClassName to set.
        /// </summary>
        public static ConflictResult FindConflicts(ImmutableArray<TypeClaim?> claims)
        {
            var ordered = new List<TypeClaim>();
            foreach (TypeClaim? c in claims)
            {
                if (c is not null)
                    ordered.Add(c);
            }

            ordered.Sort(static (a, b) => string.CompareOrdinal(a.ManifestPath, b.ManifestPath));
            var owners = new Dictionary<string, TypeClaim>(StringComparer.Ordinal);
            var blocked = new List<string>();
            var diagnostics = new List<DiagnosticInfo>();
            foreach (TypeClaim claim in ordered)
            {
                string prefix = claim.Namespace.Length == 0 ? "" : claim.Namespace + ".";
                TypeClaim? other = null;
                string? type = null;
                foreach (string name in GeneratedTypeNames(claim.ClassName))
                {
                    if (owners.TryGetValue(prefix + name, out other))
                    {
                        type = prefix + name;
                        break;
                    }
                }

                if (other is null)
                {
                    foreach (string name in GeneratedTypeNames(claim.ClassName))
                        owners[prefix + name] = claim;
                    continue;
                }

                blocked.Add(claim.ManifestPath);
                string suggestion = SuggestClassName(claim);
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.DuplicateType.Id,
                    claim.ManifestPath,
                    new TextSpan(0, 0),
                    new LinePositionSpan(LinePosition.Zero, LinePosition.Zero),
                    new[] { Describe(claim), Describe(other), type!, suggestion }.ToEquatableArray()));
            }

            return new ConflictResult(blocked.ToEquatableArray(), diagnostics.ToEquatableArray());
        }

        private static string Describe(TypeClaim c) => c.SourceFile is { } s ? $"'{s}' (manifest '{c.ManifestPath}')" : $"'{c.ManifestPath}'";

        /// <summary>A ClassName from the model's folder and file: <c>encoder/model.onnx</c> gives <c>EncoderModel</c>.</summary>
        private static string SuggestClassName(TypeClaim c)
        {
            string path = (c.SourceFile ?? c.ManifestPath).Replace('\\', '/');
            string[] parts = path.Split('/');
            string folder = parts.Length >= 2 ? ToIdentifier(parts[parts.Length - 2]) : "";
            string candidate = folder + c.ClassName;
            return folder.Length > 0 && TypeNameProblem(candidate) is null ? candidate : c.ClassName + "2";
        }
    }
}
