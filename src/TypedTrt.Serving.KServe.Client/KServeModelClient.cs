using TypedTrt.Manifest;
using TypedTrt.Runtime;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// One remote model behind a KServe v2 server (TypedTrt or Triton), bound to the binding manifest the caller's code was
/// generated from. <see cref="RunAsync"/> has the calling convention of
/// <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/> and returns the same
/// <see cref="InferenceResult"/>, so code (and generated typed clients) can switch between in-process and remote.
/// Outputs are checked against the manifest: a server whose model differs fails with a message naming the tensor.
/// </summary>
public sealed class KServeModelClient
{
    private readonly string[] _datatypes;

    /// <summary>Binds a client to a model.</summary>
    /// <param name="client">The protocol client (gRPC or REST).</param>
    /// <param name="modelName">The model's name on the server.</param>
    /// <param name="signature">The manifest the caller's code was generated from.</param>
    /// <param name="modelVersion">The version to call; <see langword="null"/> lets the server choose.</param>
    /// <exception cref="NotSupportedException">A tensor's dtype has no protocol datatype.</exception>
    public KServeModelClient(IKServeClient client, string modelName, BindingManifest signature, string? modelVersion = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentNullException.ThrowIfNull(signature);
        Client = client;
        ModelName = modelName;
        ModelVersion = modelVersion;
        Signature = signature;
        _datatypes = [.. signature.Tensors.Select(KServeDataTypes.FromBinding)];
    }

    /// <summary>The protocol client.</summary>
    public IKServeClient Client { get; }

    /// <summary>The model's name on the server.</summary>
    public string ModelName { get; }

    /// <summary>The version called, or <see langword="null"/>.</summary>
    public string? ModelVersion { get; }

    /// <summary>The manifest inputs and outputs are checked against.</summary>
    public BindingManifest Signature { get; }

    /// <summary>Whether the server reports the model ready.</summary>
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) => Client.IsModelReadyAsync(ModelName, ModelVersion, cancellationToken);

    /// <summary>
    /// Compares the server's model metadata with the manifest (names, datatypes, ranks, static dimensions) and throws
    /// one <see cref="InvalidOperationException"/> listing every difference.
    /// </summary>
    public async Task VerifyAsync(CancellationToken cancellationToken = default)
    {
        var metadata = await Client.GetModelMetadataAsync(ModelName, ModelVersion, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        for (int i = 0; i < Signature.Tensors.Count; i++)
        {
            var b = Signature.Tensors[i];
            var list = b.Mode == TensorMode.Input ? metadata.Inputs : metadata.Outputs;
            string kind = b.Mode == TensorMode.Input ? "input" : "output";
            var remote = list.FirstOrDefault(t => t.Name == b.Name);
            if (remote is null)
            {
                problems.Add($"the server's model has no {kind} '{b.Name}'");
                continue;
            }

            if (remote.Datatype != _datatypes[i])
                problems.Add($"{kind} '{b.Name}' is {remote.Datatype} there, {_datatypes[i]} here");
            if (!ShapesCompatible(b.Shape, remote.Shape))
                problems.Add($"{kind} '{b.Name}' has shape {TensorBinding.FormatShape(remote.Shape)} there, {TensorBinding.FormatShape(b.Shape)} here");
        }

        foreach (var t in metadata.Inputs)
        {
            if (Signature.Find(t.Name) is not { Mode: TensorMode.Input })
                problems.Add($"the server's model takes input '{t.Name}', which the manifest does not have");
        }

        if (problems.Count > 0)
            throw new InvalidOperationException($"Model '{ModelName}' on the server does not match the manifest of '{Signature.Source.FileName}': {string.Join("; ", problems)}.");
    }

    // A dynamic dim on either side matches anything; a Triton config with max_batch_size reports the batch dim as -1.
    private static bool ShapesCompatible(IReadOnlyList<long> local, IReadOnlyList<long> remote)
    {
        if (local.Count != remote.Count)
            return false;
        for (int d = 0; d < local.Count; d++)
        {
            if (local[d] >= 0 && remote[d] >= 0 && local[d] != remote[d])
                return false;
        }

        return true;
    }

    /// <summary>
    /// Sends one request with every input of the manifest and returns every output, checked against the manifest.
    /// </summary>
    /// <exception cref="ArgumentException">A missing, repeated or unknown input, a missing shape for a dynamic input, or data whose length does not fit its shape.</exception>
    /// <exception cref="KServeException">The server refused or failed the request (its message says why), or its answer does not fit the manifest.</exception>
    public async ValueTask<InferenceResult> RunAsync(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var request = new KServeInferRequest(ModelName) { ModelVersion = ModelVersion };
        var seen = new bool[Signature.Tensors.Count];
        foreach (var input in inputs)
        {
            if ((uint)input.TensorIndex >= (uint)seen.Length || Signature.Tensors[input.TensorIndex].Mode != TensorMode.Input)
                throw new ArgumentException($"Tensor index {input.TensorIndex} is not an input of '{Signature.Source.FileName}'.", nameof(inputs));
            var b = Signature.Tensors[input.TensorIndex];
            if (seen[input.TensorIndex])
                throw new ArgumentException($"Input '{b.Name}' is given twice.", nameof(inputs));
            seen[input.TensorIndex] = true;
            ReadOnlySpan<long> shape = input.Shape.Span;
            long[] concrete;
            if (shape.IsEmpty && b.Rank > 0)
            {
                if (b.IsDynamic)
                    throw new ArgumentException($"Input '{b.Name}' has dynamic dimensions; give its shape.", nameof(inputs));
                concrete = [.. b.Shape];
            }
            else
            {
                concrete = shape.ToArray();
            }

            try
            {
                request.Inputs.Add(new KServeTensor(b.Name, _datatypes[input.TensorIndex], concrete, input.Data));
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Input '{b.Name}': {ex.Message.Split(" (Parameter '", 2)[0]}", nameof(inputs), ex);
            }
        }

        for (int i = 0; i < seen.Length; i++)
        {
            if (!seen[i] && Signature.Tensors[i].Mode == TensorMode.Input)
                throw new ArgumentException($"Input '{Signature.Tensors[i].Name}' (tensor {i}) is missing.", nameof(inputs));
        }

        var response = await Client.InferAsync(request, cancellationToken).ConfigureAwait(false);
        var outputs = new List<InferenceOutput>();
        for (int i = 0; i < Signature.Tensors.Count; i++)
        {
            var b = Signature.Tensors[i];
            if (b.Mode != TensorMode.Output)
                continue;
            var t = response.Outputs.FirstOrDefault(o => o.Name == b.Name)
                ?? throw new KServeException(KServeErrorKind.Internal, $"Model '{ModelName}' answered without output '{b.Name}'.");
            if (t.Datatype != _datatypes[i])
                throw new KServeException(KServeErrorKind.Internal, $"Output '{b.Name}' came back as {t.Datatype}; the manifest says {_datatypes[i]}.");
            if (!ShapesCompatible(b.Shape, t.Shape))
                throw new KServeException(KServeErrorKind.Internal, $"Output '{b.Name}' came back with shape {TensorBinding.FormatShape(t.Shape)}; the manifest says {TensorBinding.FormatShape(b.Shape)}.");
            outputs.Add(new InferenceOutput(i, b, [.. t.Shape], t.Data.ToArray()));
        }

        return new InferenceResult(outputs);
    }
}
