using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using TypedTrt.Generators.Json;
using TypedTrt.Manifest.Shared;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// Members every type inherits from <see cref="object"/>: a tensor member of that name would hide it (CS0108).
        /// </summary>
        private static readonly string[] ObjectMembers = ["Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize", "ReferenceEquals"];

        /// <summary>PascalCase identifier for a tensor name: every character that cannot appear in an identifier (and '_') breaks words.</summary>
        /// <remarks>
        /// The result starts with an upper-case letter, a letter without case, or 'T' (before a digit); never with a
        /// lower-case ASCII letter or '_'. Generated code names its own private members and aliases that way, so they
        /// can never meet a tensor's name.
        /// </remarks>
        public static string ToIdentifier(string name)
        {
            var sb = new StringBuilder(name.Length);
            bool wordStart = true;
            foreach (char c in name)
            {
                bool part = char.IsLetterOrDigit(c);
                if (!part)
                {
                    wordStart = true;
                    continue;
                }

                sb.Append(wordStart ? char.ToUpperInvariant(c) : c);
                wordStart = false;
            }

            if (sb.Length > 0 && char.IsDigit(sb[0]))
                sb.Insert(0, 'T');
            string id = sb.ToString();
            return id.Length > 0 && SyntaxFacts.IsValidIdentifier(id) ? id : "";
        }

        private sealed partial class State
        {
            /// <summary>
            /// One C# name per tensor. Tensor names live only in scopes that hold nothing the generator names (the
            /// <c>Tensors</c> class, the input and output classes, the lease's buffer structs), so they can only meet
            /// each other, the scope's own type name and <see cref="object"/>'s members; those get a suffix and TTRT0005.
            /// Each tensor claims its name, <c>NameShape</c> and <c>SetNameShape</c>.
            /// </summary>
            private string[] AssignNames(ManifestData data, JsonNode[] nodes, string className)
            {
                var taken = new Dictionary<string, string>(System.StringComparer.Ordinal);
                foreach (string m in ObjectMembers)
                    taken[m] = $"the inherited member object.{m}";
                taken["Tensors"] = "the generated class Tensors that holds the descriptors";
                taken["InputBuffers"] = "the lease's generated struct InputBuffers";
                taken["OutputBuffers"] = "the lease's generated struct OutputBuffers";
                taken[className] = $"the generated class {className} (tensor members' docs refer to it by name)";
                taken[className + "Input"] = $"the generated class {className}Input";
                taken[className + "Output"] = $"the generated class {className}Output";

                var names = new string[data.Tensors.Count];
                for (int i = 0; i < names.Length; i++)
                {
                    TensorData t = data.Tensors[i];
                    string baseName = ToIdentifier(t.Name);
                    if (baseName.Length == 0)
                        baseName = "Tensor" + i.ToString(CultureInfo.InvariantCulture);
                    string name = baseName;
                    string? conflict = Conflict(name);
                    if (conflict is not null)
                    {
                        // A name the language reserves in that scope gets "Tensor"; a name another tensor took, a number.
                        bool byTensor = conflict.StartsWith("tensor '", System.StringComparison.Ordinal);
                        string stem = byTensor ? baseName : baseName + "Tensor";
                        int n = byTensor ? 2 : 1;
                        name = byTensor ? stem + "_2" : stem;
                        while (Conflict(name) is not null)
                            name = stem + "_" + (++n).ToString(CultureInfo.InvariantCulture);
                        Report(DiagnosticDescriptors.NameCollision.Id, nodes[i].TryGetProperty("name", out JsonNode nn) ? nn : nodes[i], t.Name, baseName, conflict, name);
                    }

                    names[i] = name;
                    string owner = $"tensor '{t.Name}'";
                    taken[name] = owner;
                    taken[name + "Shape"] = owner;
                    taken["Set" + name + "Shape"] = owner;
                }

                return names;

                string? Conflict(string candidate)
                {
                    foreach (string form in new[] { candidate, candidate + "Shape", "Set" + candidate + "Shape" })
                    {
                        if (taken.TryGetValue(form, out string? owner))
                            return owner;
                    }

                    return null;
                }
            }
        }
    }
}
