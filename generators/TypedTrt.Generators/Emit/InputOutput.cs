using TypedTrt.Generators.Model;
using static TypedTrt.Generators.BindingGenerator.Emitter.Text;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        private static void EmitInput(IndentedWriter w, Context e)
        {
            w.Line("/// <summary>");
            w.Line($"/// The inputs of <see cref=\"{e.Q(e.C)}\"/> for <see cref=\"{e.Q(e.C + "Runner")}.RunAsync\"/>, set with an object initializer. Data is row-major");
            w.Line("/// (raw bytes for types without a .NET type); a dynamic input also takes its shape, which may be left <see langword=\"null\"/>");
            w.Line("/// when exactly one dimension is dynamic: it is then inferred from the data's length.");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} sealed partial class {e.C}Input");
            bool first = true;
            foreach (TensorModel t in e.Inputs)
            {
                if (!first)
                    w.Line();
                first = false;
                w.Line($"/// <inheritdoc cref=\"td.{t.PropertyName}\"/>");
                if (t.IsPlainScalar)
                {
                    w.Line($"public required {Clr(t)} {t.PropertyName} {{ get; set; }}");
                    continue;
                }

                if (t.BufferLength is long length)
                    w.Line($"[ttrt.TensorElementCount({Long(length)})]");
                w.Line($"public required sys.ReadOnlyMemory<{Clr(t)}> {t.PropertyName} {{ get; set; }}");
                if (t.IsDynamic)
                {
                    w.Line($"/// <summary>Shape of <see cref=\"{t.PropertyName}\"/>.</summary>");
                    w.Line($"[{ShapeAttributes(t)}]");
                    w.Line($"public long[]? {t.PropertyName}Shape {{ get; set; }}");
                }
            }

            w.Close();
        }

        private static void EmitOutput(IndentedWriter w, Context e)
        {
            w.Line("/// <summary>");
            w.Line($"/// The outputs of <see cref=\"{e.Q(e.C)}\"/>: row-major arrays the caller owns (raw bytes for types without a .NET type), copied out");
            w.Line("/// of the runner's buffers at their actual size; a dynamic output also has its resolved shape (a static one's is its descriptor's, as for inputs).");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} sealed partial class {e.C}Output");
            bool first = true;
            foreach (TensorModel t in e.Outputs)
            {
                if (!first)
                    w.Line();
                first = false;
                w.Line($"/// <inheritdoc cref=\"td.{t.PropertyName}\"/>");
                if (t.IsPlainScalar)
                {
                    w.Line($"public required {Clr(t)} {t.PropertyName} {{ get; init; }}");
                    continue;
                }

                w.Line($"public required {Clr(t)}[] {t.PropertyName} {{ get; init; }}");
                if (t.IsDynamic)
                {
                    w.Line($"/// <summary>Shape of <see cref=\"{t.PropertyName}\"/>.</summary>");
                    w.Line($"public required long[] {t.PropertyName}Shape {{ get; init; }}");
                }
            }

            w.Close();
        }
    }
}
