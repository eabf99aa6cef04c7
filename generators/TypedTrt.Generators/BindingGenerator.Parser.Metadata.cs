using System;
using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// Members of the generated descriptor class: a ClassName equal to one would declare a member named like its
        /// type (CS0542). The descriptor class holds nothing else, so tensor names never meet these.
        /// </summary>
        internal static readonly string[] DescriptorMembers = ["ModelFileName", "ModelSha256", "DefaultStreams", "Signature", "Bindings", "Tensors"];

        /// <summary>
        /// Members of the generated lease: the lease's buffer structs refer to the class by its simple name, which these
        /// would shadow.
        /// </summary>
        internal static readonly string[] LeaseMembers = ["Lease", "Inputs", "Outputs", "RunAsync", "Dispose", "InputBuffers", "OutputBuffers"];

        /// <summary>Why <paramref name="name"/> cannot name a generated type, or null when it can.</summary>
        internal static string? TypeNameProblem(string name)
        {
            if (!SyntaxFacts.IsValidIdentifier(name))
                return "it must be a C# identifier";
            if (SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
                return "it is a C# keyword";
            if (IsLowerAscii(name))
            {
                // Covers every contextual keyword that cannot name a type (record, file, required, scoped, ...), present and future.
                return "an all-lower-case ASCII name is reserved for C# keywords (contextual keywords such as 'file', 'required' or 'scoped' cannot name a type; others give warning CS8981)";
            }

            if (name == "_")
                return "'_' is a discard";
            if (Array.IndexOf(DescriptorMembers, name) >= 0)
                return $"the generated class has a member named '{name}' (a member cannot have its type's name)";
            if (Array.IndexOf(LeaseMembers, name) >= 0)
                return $"the generated lease has a member named '{name}', which would hide the class inside it";
            return null;
        }

        private static bool IsLowerAscii(string name)
        {
            foreach (char c in name)
            {
                if (c is < 'a' or > 'z')
                    return false;
            }

            return name.Length > 0;
        }

        private sealed partial class State
        {
            private string ResolveClassName()
            {
                if (_input.ClassName is { } name)
                {
                    if (TypeNameProblem(name) is { } problem)
                        throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "ClassName", name, problem);
                    return name;
                }

                // From the file name: "detector.bindings.json" -> Detector. A derived name that cannot name the type gets a "Model" suffix.
                string stem = FileName(_input.Path);
                stem = stem.Substring(0, stem.Length - ManifestSuffix.Length);
                string id = ToIdentifier(stem);
                if (id.Length == 0)
                    return "Model";
                return TypeNameProblem(id) is null ? id : id + "Model";
            }

            private string ResolveNamespace()
            {
                string? ns = _input.Namespace;
                if (ns is null)
                    return "";
                string[] parts = ns.Split('.');
                for (int i = 0; i < parts.Length; i++)
                {
                    string part = parts[i];
                    string? problem = !SyntaxFacts.IsValidIdentifier(part) ? "every part must be a C# identifier"
                        : SyntaxFacts.GetKeywordKind(part) != SyntaxKind.None ? $"'{part}' is a C# keyword"
                        : part == "global" ? "'global' is the global namespace alias"
                        : part == "await" ? "'await' cannot appear in the generated async methods"
                        : null;
                    if (problem is not null)
                        throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "Namespace", ns, "it must be a dotted list of C# identifiers: " + problem);
                }

                return ns;
            }

            private int ResolveStreams()
            {
                if (_input.Streams is not { } s)
                    return DefaultStreams;
                if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1024)
                    return n;
                throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "Streams", s, "it must be an integer from 1 to 1024");
            }

            private bool ResolveKServeClient()
            {
                if (_input.KServeClient is not { Length: > 0 } k)
                    return false;
                if (string.Equals(k, "true", StringComparison.OrdinalIgnoreCase))
                    return true;
                if (string.Equals(k, "false", StringComparison.OrdinalIgnoreCase))
                    return false;
                throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "KServeClient", k, "it must be true or false");
            }

            private bool ResolveAccess()
            {
                if (_input.Access is not { } a)
                    return false;
                if (string.Equals(a, "Public", StringComparison.OrdinalIgnoreCase))
                    return false;
                if (string.Equals(a, "Internal", StringComparison.OrdinalIgnoreCase))
                    return true;
                throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "Access", a, "it must be Public or Internal");
            }
        }
    }
}
