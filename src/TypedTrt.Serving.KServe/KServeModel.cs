using TypedTrt.Manifest;
using TypedTrt.Runtime;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// A model as the protocol sees it: a name, one version, a platform, the tensors of its binding manifest with their
/// protocol datatypes and shapes (-1 for dynamic dimensions), and the handler that runs requests (usually a runner).
/// </summary>
public sealed class KServeModel
{
    private volatile bool _ready = true;

    /// <summary>Serves a runner: its signature, its optimization profile's ranges and its <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>.</summary>
    /// <param name="name">The model name in URLs and requests.</param>
    /// <param name="runner">The runner (not owned: dispose it after the server stops).</param>
    /// <param name="version">The one version served (default <c>"1"</c>, as in a Triton model repository).</param>
    /// <param name="platform">The platform reported in metadata; default from the manifest (<c>tensorrt_plan</c> or <c>onnxruntime_onnx</c>).</param>
    /// <exception cref="NotSupportedException">A tensor's dtype has no protocol datatype.</exception>
    public KServeModel(string name, InferenceRunner runner, string version = "1", string? platform = null)
        : this(name, (runner ?? throw new ArgumentNullException(nameof(runner))).Signature, runner.ProfileIndex, runner.RunAsync, version, platform)
    {
    }

    /// <summary>Serves any handler with the runner's calling convention.</summary>
    /// <param name="name">The model name in URLs and requests.</param>
    /// <param name="signature">The binding manifest: tensor names, dtypes, shapes and profiles.</param>
    /// <param name="profileIndex">The optimization profile whose ranges requests are checked against (before the handler runs).</param>
    /// <param name="handler">Runs a request.</param>
    /// <param name="version">The one version served.</param>
    /// <param name="platform">The platform reported in metadata.</param>
    /// <exception cref="NotSupportedException">A tensor's dtype has no protocol datatype.</exception>
    /// <exception cref="ArgumentException">An empty name or version, or a profile index the manifest does not have.</exception>
    public KServeModel(string name, BindingManifest signature, int profileIndex, KServeInferHandler handler, string version = "1", string? platform = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(handler);
        if (name.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"Model name '{name}' contains '/', which cannot appear in the protocol's URL paths.", nameof(name));
        if (signature.Profiles.Count > 0 ? (uint)profileIndex >= (uint)signature.Profiles.Count : profileIndex != 0)
            throw new ArgumentException($"Optimization profile {profileIndex} does not exist; the manifest has {signature.Profiles.Count}.", nameof(profileIndex));
        Name = name;
        Version = version;
        Signature = signature;
        Handler = handler;
        Platform = platform ?? (signature.Source.Kind == ModelKind.TensorRTEngine ? "tensorrt_plan" : "onnxruntime_onnx");
        var profile = signature.Profiles.Count > 0 ? signature.Profiles[profileIndex] : null;
        var inputs = new List<TensorSpec>();
        var outputs = new List<TensorSpec>();
        for (int i = 0; i < signature.Tensors.Count; i++)
        {
            var b = signature.Tensors[i];
            string datatype = KServeDataTypes.FromBinding(b);
            KServeDataTypes.TryGetElementSize(datatype, out int size);
            long[] min = [.. b.Shape], max = [.. b.Shape];
            if (b.Mode == TensorMode.Input && b.IsDynamic && profile?.Find(b.Name) is { } range)
            {
                for (int d = 0; d < min.Length; d++)
                {
                    if (min[d] < 0)
                    {
                        min[d] = range.Min[d];
                        max[d] = range.Max[d];
                    }
                }
            }

            var spec = new TensorSpec(i, b, datatype, size, min, max);
            (b.Mode == TensorMode.Input ? inputs : outputs).Add(spec);
        }

        InputSpecs = [.. inputs];
        OutputSpecs = [.. outputs];
    }

    /// <summary>The model name.</summary>
    public string Name { get; }

    /// <summary>The version served.</summary>
    public string Version { get; }

    /// <summary>The platform reported in metadata.</summary>
    public string Platform { get; }

    /// <summary>The binding manifest.</summary>
    public BindingManifest Signature { get; }

    /// <summary>Runs requests.</summary>
    public KServeInferHandler Handler { get; }

    /// <summary>
    /// Whether the model takes requests (model and server readiness): set it to <see langword="false"/> while draining.
    /// With a <see cref="ReadinessProbe"/>, the model is ready only while the flag is set and the probe says so.
    /// </summary>
    public bool IsReady
    {
        get => _ready && (ReadinessProbe?.Invoke() ?? true);
        set => _ready = value;
    }

    /// <summary>
    /// Optional readiness of whatever runs the requests, asked on every readiness query and request (keep it cheap),
    /// e.g. a hosted model's state (loaded, warmed up, not draining, not faulted). Default none.
    /// </summary>
    public Func<bool>? ReadinessProbe { get; init; }

    internal TensorSpec[] InputSpecs { get; }

    internal TensorSpec[] OutputSpecs { get; }

    internal TensorSpec? FindInput(string name) => Array.Find(InputSpecs, s => s.Binding.Name == name);

    internal TensorSpec? FindOutput(string name) => Array.Find(OutputSpecs, s => s.Binding.Name == name);

    /// <summary>A tensor of the model: its index in the signature, binding, protocol datatype and accepted dimension ranges.</summary>
    internal sealed record TensorSpec(int Index, TensorBinding Binding, string Datatype, int ElementSize, long[] Min, long[] Max);
}
