using TypedTrt.Generators.Model;
using static TypedTrt.Generators.BindingGenerator.Emitter.Text;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// <c>&lt;Class&gt;Client</c> (item metadata <c>KServeClient="true"</c>): the runner interface over a KServe v2 server.
        /// Everything but the per-tensor mapping is in <c>TypedTrt.Serving.KServe</c> (KServeModelClient, KServeBindings).
        /// </summary>
        private static void EmitKServeClient(IndentedWriter w, Context e)
        {
            const string K = "global::TypedTrt.Serving.KServe";
            string client = e.C + "Client", output = e.Q(e.C + "Output"), input = e.Q(e.C + "Input"), bindings = e.Q(e.C) + ".Bindings";
            w.Line("/// <summary>");
            w.Line($"/// Runs <c>{Xml(e.Model.ModelFileName)}</c> on a KServe v2 / Open Inference Protocol server (TypedTrt's, or Triton Inference Server) with the");
            w.Line($"/// same typed inputs and outputs as <see cref=\"{e.Q(e.C + "Runner")}\"/>, over gRPC or REST (<see cref=\"{K}.KServeGrpcClient\"/>, <see cref=\"{K}.KServeRestClient\"/>).");
            w.Line("/// Outputs are checked against the bindings' manifest. Thread-safe.");
            w.Line("/// </summary>");
            w.Line(e.GeneratedCode);
            w.Open($"{e.Access} sealed partial class {client} : {e.Q("I" + e.C + "Runner")}");
            w.Line($"private readonly {K}.KServeModelClient _model;");
            w.Line();
            w.Line($"/// <summary>Binds a protocol client to the model named <paramref name=\"modelName\"/> on the server.</summary>");
            w.Line("/// <param name=\"client\">The gRPC or REST protocol client (not owned).</param>");
            w.Line("/// <param name=\"modelName\">The model's name on the server.</param>");
            w.Line("/// <param name=\"modelVersion\">The version to call; null lets the server choose.</param>");
            w.Line($"public {client}({K}.IKServeClient client, string modelName, string? modelVersion = null) =>");
            w.Line($"    _model = new {K}.KServeModelClient(client, modelName, {bindings}.Signature, modelVersion);");
            w.Line();
            w.Line("/// <summary>The untyped model client (readiness, <c>VerifyAsync</c> against the server's metadata).</summary>");
            w.Line($"public {K}.KServeModelClient Model => _model;");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Open($"public async sys.Threading.Tasks.ValueTask<{output}> RunAsync({input} input, sys.Threading.CancellationToken cancellationToken = default)");
            w.Line("sys.ArgumentNullException.ThrowIfNull(input);");
            w.Line($"trt.Bindings.ModelBindings b = {bindings};");
            w.Line("trt.InferenceInput[] inputs =");
            w.Line("[");
            w.Indent();
            foreach (TensorModel t in e.Inputs)
            {
                string idx = Int(t.Index);
                w.Line(t.IsPlainScalar
                    ? $"{K}.KServeBindings.Scalar(b, {idx}, input.{t.PropertyName}),"
                    : $"{K}.KServeBindings.Input(b, {idx}, input.{t.PropertyName}, {(t.IsDynamic ? $"input.{t.PropertyName}Shape" : "null")}),");
            }

            w.Unindent();
            w.Line("];");
            w.Line("trt.InferenceResult r = await _model.RunAsync(inputs, cancellationToken).ConfigureAwait(false);");
            w.Line($"return new {output}");
            w.Line("{");
            w.Indent();
            foreach (TensorModel t in e.Outputs)
            {
                string idx = Int(t.Index);
                if (t.IsPlainScalar)
                {
                    w.Line($"{t.PropertyName} = {K}.KServeBindings.Scalar<{Clr(t)}>(r, {idx}),");
                    continue;
                }

                w.Line($"{t.PropertyName} = {K}.KServeBindings.Output<{Clr(t)}>(r, {idx}),");
                w.Line($"{t.PropertyName}Shape = {K}.KServeBindings.Shape(r, {idx}),");
            }

            w.Unindent();
            w.Line("};");
            w.Close();
            w.Line();
            w.Line("/// <summary>Not available remotely: a server's slots cannot be leased. Use <see cref=\"RunAsync\"/>, or the in-process runner for zero-copy access.</summary>");
            w.Line("/// <param name=\"cancellationToken\">Unused.</param>");
            w.Line("/// <returns>Never returns.</returns>");
            w.Line("/// <exception cref=\"sys.NotSupportedException\">Always.</exception>");
            w.Line($"public sys.Threading.Tasks.ValueTask<{e.Q(e.C + "Lease")}> AcquireAsync(sys.Threading.CancellationToken cancellationToken = default) =>");
            w.Line($"    throw new sys.NotSupportedException({Literal($"{client} calls a remote model, whose slots cannot be leased: use RunAsync, or {e.C}Runner in process for zero-copy access.")});");
            w.Line();
            w.Line("/// <summary>Nothing to free: the protocol client and its channel belong to the caller.</summary>");
            w.Line("/// <returns>A completed task.</returns>");
            w.Line("public sys.Threading.Tasks.ValueTask DisposeAsync() => default;");
            w.Close();
        }
    }
}
