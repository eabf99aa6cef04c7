using TypedTrt.Generators.Model;
using static TypedTrt.Generators.BindingGenerator.Emitter.Text;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        private static void EmitInterface(IndentedWriter w, Context e)
        {
            string output = e.Q(e.C + "Output"), input = e.Q(e.C + "Input");
            w.Line("/// <summary>");
            w.Line($"/// A runner of <c>{Xml(e.Model.ModelFileName)}</c> as application code uses it: <see cref=\"RunAsync\"/> with typed inputs and outputs, or");
            w.Line($"/// <see cref=\"AcquireAsync\"/> for zero-copy use of a slot. <see cref=\"{e.Q(e.C + "Runner")}\"/> implements it in process; depend on the");
            w.Line("/// interface to test application code with a fake (no GPU) or to switch implementations (such as a remote client) by configuration.");
            w.Line($"/// An implementation without slots of its own can serve leases from any <see cref=\"trt.InferenceRunner\"/> (e.g. over a host-memory engine).");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} partial interface I{e.C}Runner : sys.IAsyncDisposable");
            w.Line("/// <summary>Runs one inference: waits for a free slot, sets the shapes of dynamic inputs, copies the inputs in, runs, and copies the outputs out.</summary>");
            w.Line("/// <param name=\"input\">The inputs.</param>");
            w.Line("/// <param name=\"cancellationToken\">Cancels waiting for a slot and the run.</param>");
            w.Line("/// <returns>The outputs, in arrays the caller owns.</returns>");
            w.Line("/// <exception cref=\"sys.ArgumentException\">An input's shape is outside the optimization profile, or its data has the wrong length.</exception>");
            w.Line($"sys.Threading.Tasks.ValueTask<{output}> RunAsync({input} input, sys.Threading.CancellationToken cancellationToken = default);");
            w.Line();
            w.Line("/// <summary>Waits for a free slot and leases it for zero-copy use: write the inputs into its buffers, run, read the outputs in place.</summary>");
            w.Line("/// <param name=\"cancellationToken\">Cancels waiting for a slot.</param>");
            w.Line("/// <returns>The lease; dispose it to return the slot.</returns>");
            w.Line($"sys.Threading.Tasks.ValueTask<{e.Q(e.C + "Lease")}> AcquireAsync(sys.Threading.CancellationToken cancellationToken = default);");
            w.Close();
        }

        private static void EmitRunner(IndentedWriter w, Context e)
        {
            string runner = e.C + "Runner", output = e.Q(e.C + "Output"), input = e.Q(e.C + "Input"), bindings = e.Q(e.C) + ".Bindings";
            w.Line("/// <summary>");
            w.Line($"/// Runs <c>{Xml(e.Model.ModelFileName)}</c> with typed inputs and outputs over an <see cref=\"trt.InferenceRunner\"/>: one slot per stream, safe for");
            w.Line("/// any number of concurrent callers. <see cref=\"RunAsync\"/> copies in and out; <see cref=\"AcquireAsync\"/> gives zero-copy access to a slot.");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} sealed partial class {runner} : {e.Q("I" + runner)}");
            w.Line("private readonly trt.InferenceRunner _runner;");
            w.Line();
            w.Line($"/// <summary>Creates a runner over <paramref name=\"engine\"/>, which must have the tensors of <see cref=\"{e.Q(e.C)}\"/>.</summary>");
            w.Line("/// <param name=\"engine\">The engine; the runner does not take ownership.</param>");
            w.Line("/// <param name=\"streams\">Number of slots (streams); the default is the item's <c>Streams</c> metadata.</param>");
            w.Line("/// <exception cref=\"sys.ArgumentException\">The engine's tensors differ from the bindings', or a dynamic input has no profile range.</exception>");
            w.Line($"public {runner}(trt.Engine.IInferenceEngine engine, int streams = {e.Q(e.C)}.DefaultStreams)");
            w.Line("    : this(engine, new trt.InferenceRunnerOptions { Streams = streams })");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>Creates a runner over <paramref name=\"engine\"/> with explicit options (streams, optimization profile, device, completion, graphs).</summary>");
            w.Line("/// <param name=\"engine\">The engine; the runner does not take ownership.</param>");
            w.Line("/// <param name=\"options\">The runner's options.</param>");
            w.Line("/// <exception cref=\"sys.ArgumentException\">The engine's tensors differ from the bindings', or the options do not fit the engine.</exception>");
            w.Open($"public {runner}(trt.Engine.IInferenceEngine engine, trt.InferenceRunnerOptions options)");
            w.Line($"{bindings}.CheckEngine(engine, {Literal(e.C)});");
            w.Line("_runner = new trt.InferenceRunner(engine, options);");
            w.Close();
            w.Line();
            w.Line("/// <summary>The untyped runner core (profiling, buffer sizes, CUDA context).</summary>");
            w.Line("public trt.InferenceRunner Runner => _runner;");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Open($"public async sys.Threading.Tasks.ValueTask<{output}> RunAsync({input} input, sys.Threading.CancellationToken cancellationToken = default)");
            w.Line("sys.ArgumentNullException.ThrowIfNull(input);");
            w.Line("trt.InferenceLease lease = await _runner.AcquireAsync(cancellationToken).ConfigureAwait(false);");
            w.Open("try");
            w.Line("SetInputs(lease, input);");
            w.Line("await lease.RunAsync(cancellationToken).ConfigureAwait(false);");
            w.Line("return GetOutputs(lease);");
            w.Close();
            w.Open("finally");
            w.Line("lease.Dispose();");
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line($"public async sys.Threading.Tasks.ValueTask<{e.Q(e.C + "Lease")}> AcquireAsync(sys.Threading.CancellationToken cancellationToken = default) =>");
            w.Line($"    new {e.Q(e.C + "Lease")}(await _runner.AcquireAsync(cancellationToken).ConfigureAwait(false));");
            w.Line();
            w.Line("/// <summary>Waits for work in flight, then frees every slot. Does not dispose the engine.</summary>");
            w.Line("/// <returns>A task that completes when the slots are freed.</returns>");
            w.Line("public sys.Threading.Tasks.ValueTask DisposeAsync() => _runner.DisposeAsync();");
            w.Line();

            // Straight-line, synchronous methods: no per-tensor state in the async state machine, so compile time stays linear.
            w.Open($"private static void SetInputs(trt.InferenceLease l, {input} input)");
            w.Line($"trt.Bindings.ModelBindings b = {bindings};");
            foreach (TensorModel t in e.Inputs)
            {
                string idx = Int(t.Index);
                if (t.IsPlainScalar)
                    w.Line($"b.SetScalar(l, {idx}, input.{t.PropertyName});");
                else
                    w.Line($"b.SetInput(l, {idx}, input.{t.PropertyName}, {(t.IsDynamic ? $"input.{t.PropertyName}Shape" : "null")});");
            }

            w.Close();
            w.Line();
            w.Open($"private static {output} GetOutputs(trt.InferenceLease l)");
            w.Line($"trt.Bindings.ModelBindings b = {bindings};");
            w.Line($"return new {output}");
            w.Line("{");
            w.Indent();
            foreach (TensorModel t in e.Outputs)
            {
                string idx = Int(t.Index);
                if (t.IsPlainScalar)
                {
                    w.Line($"{t.PropertyName} = b.GetScalar<{Clr(t)}>(l, {idx}),");
                    continue;
                }

                w.Line($"{t.PropertyName} = b.GetOutput<{Clr(t)}>(l, {idx}),");
                if (t.IsDynamic)
                    w.Line($"{t.PropertyName}Shape = b.GetShape(l, {idx}),");
            }

            w.Unindent();
            w.Line("};");
            w.Close();
            w.Close();
        }
    }
}
