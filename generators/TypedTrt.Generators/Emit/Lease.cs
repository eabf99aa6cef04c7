using TypedTrt.Generators.Model;
using static TypedTrt.Generators.BindingGenerator.Emitter.Text;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        private static void EmitLease(IndentedWriter w, Context e)
        {
            string lease = e.C + "Lease";
            w.Line("/// <summary>");
            w.Line($"/// Exclusive use of one slot of a <see cref=\"{e.Q(e.C + "Runner")}\"/> for zero-copy inference: set the shapes of dynamic inputs, write the");
            w.Line("/// inputs in place, <see cref=\"RunAsync\"/>, read the outputs in place, and dispose to return the slot. Spans point into the slot's");
            w.Line("/// buffers: valid until the next shape change or run, never after disposal. Shapes are checked against the runner's profile.");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} readonly struct {lease} : sys.IDisposable");
            w.Line("private readonly trt.InferenceLease _lease;");
            w.Line();
            w.Line($"/// <summary>Wraps an untyped lease of a runner over an engine with the tensors of <see cref=\"{e.Q(e.C)}\"/> (for <see cref=\"{e.Q("I" + e.C + "Runner")}\"/> implementations).</summary>");
            w.Line("/// <param name=\"lease\">The untyped lease.</param>");
            w.Line($"public {lease}(trt.InferenceLease lease) => _lease = lease;");
            w.Line();
            w.Line("/// <summary>The untyped lease, for index-based access.</summary>");
            w.Line("public trt.InferenceLease Lease => _lease;");
            w.Line();
            w.Line("/// <summary>The slot's input buffers and shape setters.</summary>");
            w.Line("public InputBuffers Inputs => new InputBuffers(_lease);");
            w.Line();
            w.Line("/// <summary>The slot's output buffers and resolved shapes (valid after <see cref=\"RunAsync\"/>).</summary>");
            w.Line("public OutputBuffers Outputs => new OutputBuffers(_lease);");
            w.Line();
            w.Line("/// <summary>Copies the inputs to the device, runs the engine and copies the outputs back; completes when this slot's work is done.</summary>");
            w.Line("/// <param name=\"cancellationToken\">Cancels the run before it is enqueued.</param>");
            w.Line("/// <returns>A task that completes when the outputs are ready.</returns>");
            w.Line("public sys.Threading.Tasks.ValueTask RunAsync(sys.Threading.CancellationToken cancellationToken = default) => _lease.RunAsync(cancellationToken);");
            w.Line();
            w.Line("/// <summary>Returns the slot to the runner.</summary>");
            w.Line("public void Dispose() => _lease.Dispose();");
            w.Line();

            w.Line("/// <summary>The input buffers, one per input (see the input properties and <see cref=\"" + e.Q(e.C) + ".Tensors\"/> for each tensor): for a dynamic input call its <c>Set…Shape</c> first; each span has the size of the input's current shape.</summary>");
            w.Open("public readonly struct InputBuffers");
            w.Line("private readonly trt.InferenceLease _l;");
            w.Line();
            w.Line("internal InputBuffers(trt.InferenceLease lease) => _l = lease;");
            foreach (TensorModel t in e.Inputs)
            {
                string idx = Int(t.Index);
                if (t.IsDynamic)
                {
                    w.Line($"/// <summary>Sets the shape of <see cref=\"{t.PropertyName}\"/>.</summary>");
                    w.Line($"public void Set{t.PropertyName}Shape([{ShapeAttributes(t)}] sys.ReadOnlySpan<long> shape) => _l.SetInputShape({idx}, shape);");
                }

                w.Line($"/// <inheritdoc cref=\"td.{t.PropertyName}\"/>");
                w.Line($"public sys.Span<{Clr(t)}> {t.PropertyName} => _l.GetInputSpan<{Clr(t)}>({idx});");
            }

            w.Close();
            w.Line();
            w.Line("/// <summary>The output buffers, one per output (see <see cref=\"" + e.Q(e.C) + ".Tensors\"/> for each tensor), valid after <see cref=\"RunAsync\"/> until the lease is disposed; each span has the output's actual size.</summary>");
            w.Open("public readonly struct OutputBuffers");
            w.Line("private readonly trt.InferenceLease _l;");
            w.Line();
            w.Line("internal OutputBuffers(trt.InferenceLease lease) => _l = lease;");
            foreach (TensorModel t in e.Outputs)
            {
                string idx = Int(t.Index);
                w.Line($"/// <inheritdoc cref=\"td.{t.PropertyName}\"/>");
                w.Line($"public sys.ReadOnlySpan<{Clr(t)}> {t.PropertyName} => _l.GetOutputSpan<{Clr(t)}>({idx});");
                if (t.IsDynamic)
                {
                    w.Line($"/// <summary>Shape of <see cref=\"{t.PropertyName}\"/>.</summary>");
                    w.Line($"public sys.ReadOnlySpan<long> {t.PropertyName}Shape => _l.GetOutputShape({idx});");
                }
            }

            w.Close();
            w.Close();
        }
    }
}
