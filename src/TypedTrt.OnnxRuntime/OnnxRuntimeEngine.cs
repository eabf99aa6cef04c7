using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.OnnxRuntime;

/// <summary>Options of an <see cref="OnnxRuntimeEngine"/>. The defaults suit the runner: one thread per run, the runner's slots give the parallelism.</summary>
public sealed class OnnxRuntimeEngineOptions
{
    /// <summary>Threads ONNX Runtime may use inside one operator (<c>SessionOptions.IntraOpNumThreads</c>). Default 1: the runner's slots give the parallelism.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>
    /// Threads ONNX Runtime may use to run independent operators at once (<c>SessionOptions.InterOpNumThreads</c>);
    /// only used with <see cref="ExecutionMode.ORT_PARALLEL"/>. Default 1.
    /// </summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>Whether independent operators run one after another or in parallel (<c>SessionOptions.ExecutionMode</c>). Default <see cref="ExecutionMode.ORT_SEQUENTIAL"/>.</summary>
    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.ORT_SEQUENTIAL;

    /// <summary>Graph optimization level. Default: all optimizations.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>
    /// Called with the session options after TypedTrt has set the ones above and before the session is created: add
    /// execution providers here (with the <c>Microsoft.ML.OnnxRuntime.Gpu</c> package, e.g.
    /// <c>o =&gt; o.AppendExecutionProvider_CUDA(0)</c>) or set anything else ONNX Runtime offers. The engine keeps
    /// binding host memory, so a GPU provider copies inputs and outputs itself. Default: none (CPU provider).
    /// </summary>
    public Action<SessionOptions>? ConfigureSessionOptions { get; init; }

    /// <summary>Checks the values, naming the wrong one.</summary>
    internal void Validate()
    {
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be 0 (ONNX Runtime's default) or more.");
        if (InterOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, "InterOpThreads must be 0 (ONNX Runtime's default) or more.");
        if (!Enum.IsDefined(ExecutionMode))
            throw new ArgumentOutOfRangeException(nameof(ExecutionMode), ExecutionMode, "Unknown execution mode.");
        if (!Enum.IsDefined(OptimizationLevel))
            throw new ArgumentOutOfRangeException(nameof(OptimizationLevel), OptimizationLevel, "Unknown graph optimization level.");
    }

    /// <summary>The session options these values describe (the caller disposes them).</summary>
    internal SessionOptions CreateSessionOptions()
    {
        Validate();
        var so = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = InterOpThreads,
            GraphOptimizationLevel = OptimizationLevel,
            ExecutionMode = ExecutionMode,
        };
        try
        {
            ConfigureSessionOptions?.Invoke(so);
            return so;
        }
        catch
        {
            so.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Runs an ONNX model on ONNX Runtime's CPU provider behind TypedTrt's engine abstraction, so the same generated
/// runner works on machines without an NVIDIA GPU. One <see cref="InferenceSession"/> is shared by all contexts (it is
/// thread-safe for concurrent runs); each context pre-binds its slot's host buffers with an <see cref="OrtIoBinding"/>,
/// so steady-state requests with unchanged shapes allocate no tensors.
/// </summary>
public sealed class OnnxRuntimeEngine : IInferenceEngine
{
    private readonly InferenceSession _session;
    private readonly string _modelPath;
    private int _liveContexts;
    private bool _disposed;

    private OnnxRuntimeEngine(InferenceSession session, BindingManifest signature, string modelPath)
    {
        _session = session;
        Signature = signature;
        _modelPath = modelPath;
    }

    /// <summary>
    /// Loads an ONNX model and checks it against the signature the caller's code was generated from (names, modes,
    /// dtypes, ranks and static dims); every difference is listed in one <see cref="SignatureMismatchException"/>.
    /// </summary>
    /// <param name="modelPath">The <c>.onnx</c> file.</param>
    /// <param name="signature">The expected signature, usually the generated class's <c>Signature</c>.</param>
    /// <param name="options">Session options (threads, execution mode, graph optimization, execution providers).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option has an invalid value.</exception>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load the model.</exception>
    /// <exception cref="SignatureMismatchException">The model does not match <paramref name="signature"/>.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype has no ONNX Runtime counterpart (fp8, int4, fp4, e8m0).</exception>
    public static OnnxRuntimeEngine Load(string modelPath, BindingManifest signature, OnnxRuntimeEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(signature);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"The ONNX model '{modelPath}' does not exist.", modelPath);
        foreach (var t in signature.Tensors)
            _ = OrtSignature.ToOrt(t);
        options ??= new OnnxRuntimeEngineOptions();
        using var so = options.CreateSessionOptions();
        var session = new InferenceSession(modelPath, so);
        try
        {
            var actual = OrtSignature.Describe(session, signature.Source);
            SignatureVerifier.Verify(signature, actual, compareProfiles: false, $"The ONNX model '{modelPath}'");
            return new OnnxRuntimeEngine(session, signature, modelPath);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public BindingManifest Signature { get; }

    /// <inheritdoc/>
    public BufferPlacement Placement => BufferPlacement.Host;

    /// <summary>The model file this engine runs.</summary>
    public string ModelPath => _modelPath;

    /// <inheritdoc/>
    public IEngineContext CreateContext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _liveContexts);
        return new OnnxRuntimeContext(this, _session);
    }

    internal void ContextClosed() => Interlocked.Decrement(ref _liveContexts);

    /// <summary>Releases the session. Every context must be disposed first.</summary>
    /// <exception cref="InvalidOperationException">Contexts are still alive.</exception>
    public void Dispose()
    {
        if (_disposed)
            return;
        if (Volatile.Read(ref _liveContexts) != 0)
            throw new InvalidOperationException($"{_liveContexts} execution context(s) of this engine are still alive; dispose the runner (contexts) before the engine.");
        _disposed = true;
        _session.Dispose();
    }
}
