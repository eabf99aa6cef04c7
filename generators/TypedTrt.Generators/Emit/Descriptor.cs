using System.Linq;
using TypedTrt.Generators.Model;
using static TypedTrt.Generators.BindingGenerator.Emitter.Text;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        /// <summary>The descriptor class: model facts, the embedded manifest, and one <c>TensorInfo</c> per tensor in a nested <c>Tensors</c> class.</summary>
        private static void EmitDescriptor(IndentedWriter w, Context e)
        {
            BindingModel m = e.Model;
            int inputs = m.Tensors.Count(t => t.IsInput);
            string kind = m.ModelKind == "onnx" ? "ONNX model" : "TensorRT engine";
            w.Line("/// <summary>");
            w.Line($"/// The bindings of {kind} <c>{Xml(m.ModelFileName)}</c>{(m.TensorRTVersion is null ? "" : " (TensorRT " + Xml(m.TensorRTVersion) + ")")}: " +
                   $"{Count(inputs, "input")}, {Count(m.Tensors.Count - inputs, "output")}, {Count(m.ProfileCount, "optimization profile")}.");
            w.Line($"/// <see cref=\"Tensors\"/> describes each tensor; <see cref=\"{e.Q(e.C + "Runner")}\"/> runs the model.");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} static partial class {e.C}");
            w.Line("/// <summary>The model file's name.</summary>");
            w.Line($"public const string ModelFileName = {Literal(m.ModelFileName)};");
            w.Line();
            w.Line("/// <summary>Lower-case hex SHA-256 of the model file the bindings were generated from.</summary>");
            w.Line($"public const string ModelSha256 = {Literal(m.ModelSha256)};");
            w.Line();
            w.Line("/// <summary>The runner's default number of streams (the item's <c>Streams</c> metadata).</summary>");
            w.Line($"public const int DefaultStreams = {Int(m.DefaultStreams)};");
            w.Line();
            w.Line("/// <summary>The binding manifest the bindings were generated from (tensors, layouts, profiles); engines' <c>Load</c> methods take it.</summary>");
            w.Line("public static global::TypedTrt.Manifest.BindingManifest Signature => Bindings.Signature;");
            w.Line();
            w.Line("/// <summary>The manifest and one <see cref=\"trt.Bindings.TensorInfo\"/> per tensor, parsed on first use from the embedded UTF-8 manifest.</summary>");
            w.Line("public static trt.Bindings.ModelBindings Bindings => s_bindings ??= trt.Bindings.ModelBindings.Parse(");
            w.Line("    " + RawUtf8(m.ManifestJson) + ",");
            w.Line("    " + Literal(m.ManifestFileName) + ");");
            w.Line();
            w.Line("private static trt.Bindings.ModelBindings? s_bindings;");
            w.Line();
            w.Line("private static info t(int index) => Bindings.Tensors[index];");
            w.Line();
            w.Line("/// <summary>One descriptor per tensor, in manifest order: name, index, element type, shape, dimension names, optimization profile 0's range.</summary>");
            w.Open("public static class Tensors");
            foreach (TensorModel t in m.Tensors)
            {
                w.Line($"/// <summary>{Facts(t, full: true)}{(t.IsSupported ? "" : " TensorRT cannot bind this type, so it is not part of the typed inputs and outputs.")}</summary>");
                w.Line($"public static info {t.PropertyName} => t({Int(t.Index)});");
            }

            w.Close();
            w.Close();
        }
    }
}
