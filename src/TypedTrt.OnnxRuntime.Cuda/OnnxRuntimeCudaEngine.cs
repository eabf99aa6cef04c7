using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>
/// Runs an ONNX model on ONNX Runtime's CUDA execution provider as a <see cref="BufferPlacement.Device"/> engine, so the
/// runner's slots work as they do with TensorRT: each slot keeps its own non-blocking stream, pinned host buffers and
/// device buffers; its context is an ONNX Runtime session whose compute stream is the slot's stream
/// (<c>user_compute_stream</c>) and whose inputs and outputs are bound, with an <see cref="OrtIoBinding"/>, to the slot's
/// device buffers (<see cref="OrtMemoryInfo"/> "Cuda"). A request is then H2D copy → ONNX Runtime's kernels → D2H copy
/// on one stream, with the runner's CUDA-event profiling around each stage and no host wait inside the run.
/// </summary>
/// <remarks>
/// One session per slot: ONNX Runtime fixes a session's compute stream when it is created, so concurrent slots need
/// their own sessions; each holds its own copy of the weights, its memory arena and its cuBLAS/cuDNN workspaces
/// (docs/onnxruntime-cuda.md gives the measured cost per slot). Create the runner with
/// <c>InferenceRunnerOptions.DeviceOrdinal</c> equal to <see cref="OnnxRuntimeCudaEngineOptions.DeviceId"/>.
/// </remarks>
public sealed class OnnxRuntimeCudaEngine : IInferenceEngine
{
    private readonly OnnxRuntimeCudaEngineOptions _options;
    private readonly Dictionary<string, long[][]> _probedShapes = new(StringComparer.Ordinal);
    private readonly Lock _probeLock = new();
    private InferenceSession? _probe;
    private int _liveContexts;
    private int _sessions;
    private bool _disposed;

    private OnnxRuntimeCudaEngine(BindingManifest signature, string modelPath, OnnxRuntimeCudaEngineOptions options)
    {
        Signature = signature;
        ModelPath = modelPath;
        _options = options;
        CudaMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, options.DeviceId, OrtMemType.Default);
    }

    /// <summary>
    /// Checks that the CUDA provider can run (<see cref="OnnxRuntimeCudaAvailability"/>), loads the model's metadata and
    /// checks it against the signature the caller's code was generated from (names, modes, dtypes, ranks, static dims;
    /// every difference in one <see cref="SignatureMismatchException"/>). The CUDA sessions are created by the runner,
    /// one per slot, on the slot's stream.
    /// </summary>
    /// <param name="modelPath">The <c>.onnx</c> file.</param>
    /// <param name="signature">The expected signature, usually the generated class's <c>Signature</c>.</param>
    /// <param name="options">Session and provider options.</param>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="OnnxRuntimeCudaUnavailableException">The driver, a CUDA build of ONNX Runtime or the CUDA 13 / cuDNN 9 libraries are missing (the message says which and what to install).</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load the model.</exception>
    /// <exception cref="SignatureMismatchException">The model does not match <paramref name="signature"/>.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype has no ONNX Runtime counterpart (fp8, int4, fp4, e8m0).</exception>
    /// <exception cref="ArgumentException">An option the backend owns (<c>user_compute_stream</c>, ...) is in <see cref="OnnxRuntimeCudaEngineOptions.CudaProviderOptions"/>.</exception>
    public static OnnxRuntimeCudaEngine Load(string modelPath, BindingManifest signature, OnnxRuntimeCudaEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(signature);
        options ??= new OnnxRuntimeCudaEngineOptions();
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"The ONNX model '{modelPath}' does not exist.", modelPath);
        foreach (var t in signature.Tensors)
            _ = OrtSignature.ToOrt(t);
        foreach (string key in options.CudaProviderOptions.Keys)
        {
            if (key is "device_id" or "has_user_compute_stream" or "user_compute_stream" or "enable_cuda_graph")
                throw new ArgumentException($"CUDA provider option '{key}' is set by the backend (use DeviceId / CudaGraph; the stream is the runner slot's).", nameof(options));
        }

        if (!options.SkipAvailabilityCheck)
            OnnxRuntimeCudaAvailability.Current.ThrowIfUnavailable();

        // The metadata comes from a CPU session: it needs no GPU memory and no stream.
        using (var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 })
        using (var probe = new InferenceSession(modelPath, so))
        {
            var actual = OrtSignature.Describe(probe, signature.Source);
            SignatureVerifier.Verify(signature, actual, compareProfiles: false, $"The ONNX model '{modelPath}'");
        }

        return new OnnxRuntimeCudaEngine(signature, modelPath, options);
    }

    /// <inheritdoc/>
    public BindingManifest Signature { get; }

    /// <inheritdoc/>
    public BufferPlacement Placement => BufferPlacement.Device;

    /// <summary>The model file this engine runs.</summary>
    public string ModelPath { get; }

    /// <summary>The CUDA device the sessions run on.</summary>
    public int DeviceId => _options.DeviceId;

    /// <summary>Whether ONNX Runtime captures and replays CUDA graphs (<see cref="OnnxRuntimeCudaEngineOptions.CudaGraph"/>).</summary>
    public bool CudaGraph => _options.CudaGraph;

    /// <summary>Sessions created so far (one per slot of every runner over this engine).</summary>
    public int SessionsCreated => Volatile.Read(ref _sessions);

    internal OrtMemoryInfo CudaMemory { get; }

    /// <summary>Held while a session captures its CUDA graph (one capture at a time per engine).</summary>
    internal Lock CaptureLock { get; } = new();

    internal OnnxRuntimeCudaEngineOptions Options => _options;

    /// <inheritdoc/>
    /// <remarks>The session is created when the runner selects the profile and hands over the slot's stream (<see cref="IEngineContext.SetOptimizationProfile"/>).</remarks>
    public IEngineContext CreateContext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _liveContexts);
        return new OnnxRuntimeCudaContext(this);
    }

    /// <summary>Creates one slot's session on <paramref name="stream"/>.</summary>
    internal InferenceSession CreateSession(nint stream)
    {
        int index = Interlocked.Increment(ref _sessions) - 1;
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = _options.OptimizationLevel,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _options.ConfigureSession?.Invoke(so, new OnnxRuntimeCudaSession(stream, _options.DeviceId, index));
        var provider = new Dictionary<string, string>(_options.CudaProviderOptions)
        {
            ["device_id"] = _options.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["has_user_compute_stream"] = "1",
            ["user_compute_stream"] = ((ulong)stream).ToString(CultureInfo.InvariantCulture),
        };
        if (_options.CudaGraph)
            provider["enable_cuda_graph"] = "1";
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(provider);
            so.AppendExecutionProvider_CUDA(cuda);
            return new InferenceSession(ModelPath, so);
        }
        catch (OnnxRuntimeException e)
        {
            string hint = _options.CudaGraph && e.Message.Contains("graph", StringComparison.OrdinalIgnoreCase)
                ? " ONNX Runtime cannot capture this model into a CUDA graph (it needs static shapes and every node on the CUDA provider): set CudaGraph = false."
                : "";
            throw new InvalidOperationException(
                $"ONNX Runtime could not create a CUDA session for '{ModelPath}' on device {_options.DeviceId}: {e.Message}{hint} ({OnnxRuntimeCudaAvailability.Current})", e);
        }
    }

    /// <summary>
    /// The output shapes for the given input shapes, for outputs whose dims the input dims' names do not determine
    /// (exporters such as Paddle2ONNX give every dynamic dim its own name). Found once per distinct set of input shapes
    /// by running the model on ONNX Runtime's CPU provider with zero inputs, then cached; data-dependent output shapes
    /// (NonZero, NonMaxSuppression) cannot be found this way, and their runs fail with ONNX Runtime's shape error.
    /// </summary>
    internal long[][] ProbeOutputShapes(long[][] inputShapes)
    {
        var key = new System.Text.StringBuilder();
        var tensors = Signature.Tensors;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (tensors[i].Mode == TensorMode.Input)
                key.Append(TensorBinding.FormatShape(inputShapes[i])).Append(';');
        }

        string k = key.ToString();
        lock (_probeLock)
        {
            if (_probedShapes.TryGetValue(k, out var cached))
                return cached;
            ObjectDisposedException.ThrowIf(_disposed, this);
            _probe ??= new InferenceSession(ModelPath, new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                IntraOpNumThreads = Environment.ProcessorCount,
                InterOpNumThreads = 1,
            });
            var inputs = new List<(string Name, OrtValue Value)>();
            try
            {
                for (int i = 0; i < tensors.Count; i++)
                {
                    var t = tensors[i];
                    if (t.Mode != TensorMode.Input)
                        continue;
                    var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, OrtSignature.ToOrt(t), (long[])inputShapes[i].Clone());
                    v.GetTensorMutableRawData().Clear();
                    inputs.Add((t.Name, v));
                }

                var outputNames = tensors.Where(static t => t.Mode == TensorMode.Output).Select(static t => t.Name).ToArray();
                using var ro = new RunOptions();
                using var results = _probe.Run(ro, inputs.Select(static x => x.Name).ToArray(), inputs.Select(static x => x.Value).ToArray(), outputNames);
                var shapes = new long[tensors.Count][];
                int o = 0;
                for (int i = 0; i < tensors.Count; i++)
                {
                    if (tensors[i].Mode == TensorMode.Output)
                        shapes[i] = results[o++].GetTensorTypeAndShape().Shape;
                }

                _probedShapes[k] = shapes;
                return shapes;
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"ONNX Runtime could not compute the output shapes of '{ModelPath}' for inputs {k}: {e.Message}", e);
            }
            finally
            {
                foreach (var (_, v) in inputs)
                    v.Dispose();
            }
        }
    }

    internal void ContextClosed() => Interlocked.Decrement(ref _liveContexts);

    /// <summary>Releases the engine. Every context (runner) must be disposed first.</summary>
    /// <exception cref="InvalidOperationException">Contexts are still alive.</exception>
    public void Dispose()
    {
        if (_disposed)
            return;
        if (Volatile.Read(ref _liveContexts) != 0)
            throw new InvalidOperationException($"{_liveContexts} execution context(s) of this engine are still alive; dispose the runner (contexts) before the engine.");
        _disposed = true;
        lock (_probeLock)
        {
            _probe?.Dispose();
            _probe = null;
        }

        CudaMemory.Dispose();
    }
}
