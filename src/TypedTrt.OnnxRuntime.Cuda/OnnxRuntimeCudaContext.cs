using Microsoft.ML.OnnxRuntime;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>
/// One slot: an ONNX Runtime session computing on the slot's stream, and an <see cref="OrtIoBinding"/> of the slot's
/// device buffers. Tensor values are re-created only when a shape or address changes, so steady-state requests
/// allocate none. Output shapes are resolved from the input shapes through dimension names, as the CPU backend does.
/// </summary>
internal sealed class OnnxRuntimeCudaContext : IEngineContext
{
    private readonly OnnxRuntimeCudaEngine _engine;
    private readonly TensorBinding[] _tensors;
    private readonly long[][] _shapes;
    private readonly nint[] _address;
    private readonly long[] _capacity;
    private readonly OrtValue?[] _values;
    private readonly bool[] _bound;
    private InferenceSession? _session;
    private OrtIoBinding? _binding;
    private RunOptions? _runOptions;
    private nint _stream;
    private SessionThread? _thread;
    private Action? _run;
    private long[][]? _probeInputs;
    private long[][]? _probeOutputs;
    private bool _disposed;

    public OnnxRuntimeCudaContext(OnnxRuntimeCudaEngine engine)
    {
        _engine = engine;
        _tensors = engine.Signature.Tensors.ToArray();
        int n = _tensors.Length;
        _shapes = new long[n][];
        _address = new nint[n];
        _capacity = new long[n];
        _values = new OrtValue?[n];
        _bound = new bool[n];
        for (int i = 0; i < n; i++)
            _shapes[i] = _tensors[i].Shape.ToArray();
    }

    /// <summary>Runs completed on this context (warm-up included).</summary>
    internal long Runs { get; private set; }

    public void SetOptimizationProfile(int profileIndex, nint stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // ONNX Runtime has no optimization profiles: any shape within the model's dims runs.
        if (profileIndex < 0 || (profileIndex > 0 && profileIndex >= _engine.Signature.Profiles.Count))
            throw new ArgumentOutOfRangeException(nameof(profileIndex), profileIndex, $"The model has {_engine.Signature.Profiles.Count} profile(s).");
        if (stream == 0)
            throw new ArgumentException("The ONNX Runtime CUDA backend is a device engine: it needs the runner slot's CUDA stream, not 0.", nameof(stream));
        if (_session is not null)
        {
            if (stream != _stream)
                throw new InvalidOperationException("This context's session already computes on another stream; ONNX Runtime fixes a session's stream when it is created.");
            return;
        }

        _session = _engine.CreateSession(stream);
        _stream = stream;
        _binding = _session.CreateIoBinding();
        _runOptions = new RunOptions();
        if (!_engine.Options.SynchronizeRuns)
            _runOptions.AddRunConfigEntry("disable_synchronize_execution_providers", "1");
        if (_engine.CudaGraph)
        {
            // ONNX Runtime's CUDA graph state is per calling thread: every run of this session goes through one thread.
            _thread = new SessionThread("TypedTrt ORT CUDA graph session");
            _run = RunOnce;
        }
    }

    private void RunOnce() => _session!.RunWithBinding(_runOptions!, _binding!);

    public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        var t = Tensor(tensorIndex);
        if (t.Mode != TensorMode.Input)
            throw new ArgumentException($"'{t.Name}' is an output; only input shapes can be set.", nameof(tensorIndex));
        if (dims.Length != t.Rank)
            throw new ArgumentException($"'{t.Name}' has rank {t.Rank}; got shape {TensorBinding.FormatShape(dims)}.", nameof(dims));
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] < 0 || (t.Shape[d] >= 0 && dims[d] != t.Shape[d]))
                throw new ArgumentException($"'{t.Name}' dimension {d} must be {(t.Shape[d] >= 0 ? t.Shape[d] : "≥ 0")}; got shape {TensorBinding.FormatShape(dims)}.", nameof(dims));
        }

        if (!dims.SequenceEqual(_shapes[tensorIndex]))
        {
            dims.CopyTo(_shapes[tensorIndex]);
            _bound[tensorIndex] = false;
        }
    }

    public int GetTensorShape(int tensorIndex, Span<long> dims)
    {
        var t = Tensor(tensorIndex);
        if (dims.Length < t.Rank)
            throw new ArgumentException($"'{t.Name}' has rank {t.Rank}; the destination holds {dims.Length}.", nameof(dims));
        if (t.Mode == TensorMode.Output)
            ResolveOutputShape(tensorIndex);
        _shapes[tensorIndex].CopyTo(dims);
        return t.Rank;
    }

    public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes)
    {
        var t = Tensor(tensorIndex);
        if (address == 0)
            throw new ArgumentException($"'{t.Name}': the address is null.", nameof(address));
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        if (_address[tensorIndex] != address || _capacity[tensorIndex] != capacityBytes)
        {
            _address[tensorIndex] = address;
            _capacity[tensorIndex] = capacityBytes;
            _bound[tensorIndex] = false;
        }
    }

    public void Enqueue(nint stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_session is null)
            throw new InvalidOperationException("The context has no session yet: SetOptimizationProfile (with the slot's stream) comes first.");
        if (stream != _stream)
            throw new ArgumentException("Enqueue was given another stream than the one this context's session computes on.", nameof(stream));
        if (StreamCapture.IsCapturing(stream))
        {
            throw new NotSupportedException(
                "An ONNX Runtime run cannot be captured into the runner's CUDA graph (its first runs allocate and may synchronize). " +
                "Set OnnxRuntimeCudaEngineOptions.CudaGraph = true instead: ONNX Runtime then captures and replays its own kernels.");
        }

        for (int i = 0; i < _tensors.Length; i++)
        {
            var t = _tensors[i];
            if (_address[i] == 0)
                throw new InvalidOperationException($"No buffer is bound to '{t.Name}'; call SetTensorAddress first.");
            if (t.Mode == TensorMode.Input)
            {
                if (Array.IndexOf(_shapes[i], -1L) >= 0)
                    throw new InvalidOperationException($"The shape of input '{t.Name}' {TensorBinding.FormatShape(_shapes[i])} has dynamic dimensions; call SetInputShape first.");
            }
            else if (!ResolveOutputShape(i))
            {
                throw new NotSupportedException($"Output '{t.Name}' has shape {TensorBinding.FormatShape(_shapes[i])}, which the input shapes do not determine; the CUDA backend binds outputs to the slot's device buffers and needs their shapes before the run.");
            }

            if (!_bound[i])
                Bind(i);
        }

        try
        {
            if (_thread is null)
            {
                _session.RunWithBinding(_runOptions!, _binding!);
            }
            else if (Runs == 0)
            {
                // The first request does ONNX Runtime's regular run and its capture run back to back (the capture run
                // replays, so its outputs are the request's), one session at a time: a capture in ONNX Runtime's
                // global capture mode fails if another thread allocates or queries meanwhile.
                lock (_engine.CaptureLock)
                {
                    _thread.Run(_run!);
                    _thread.Run(_run!);
                }
            }
            else
            {
                _thread.Run(_run!);
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"ONNX Runtime failed to run '{_engine.ModelPath}' on the GPU: {e.Message}", e);
        }

        Runs++;
    }

    /// <summary>
    /// Resolves an output's dynamic dims from the inputs' named dims, else from the engine's probe for the current input
    /// shapes; false if the inputs' shapes are not all known yet. The binding is invalidated only when the shape changes.
    /// </summary>
    private bool ResolveOutputShape(int outputIndex)
    {
        var t = _tensors[outputIndex];
        Span<long> dims = stackalloc long[t.Rank];
        bool named = true;
        for (int d = 0; d < t.Rank; d++)
        {
            long value = t.Shape[d];
            if (value < 0)
                value = t.DimNames[d].Length > 0 ? FindNamedDim(t.DimNames[d]) : -1;
            dims[d] = value;
            named &= value >= 0;
        }

        if (!named)
        {
            if (!TryProbe(outputIndex, dims))
                return false;
        }

        long[] shape = _shapes[outputIndex];
        if (!dims.SequenceEqual(shape))
        {
            dims.CopyTo(shape);
            _bound[outputIndex] = false;
        }

        return true;
    }

    /// <summary>An output the dim names do not resolve: its shape for the current input shapes, from the engine's probe (cached per context for the last input shapes, per engine for all).</summary>
    private bool TryProbe(int outputIndex, Span<long> dims)
    {
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i].Mode == TensorMode.Input && Array.IndexOf(_shapes[i], -1L) >= 0)
                return false;
        }

        if (_probeInputs is null || !SameInputShapes(_probeInputs))
        {
            _probeOutputs = _engine.ProbeOutputShapes(_shapes);
            _probeInputs ??= new long[_tensors.Length][];
            for (int i = 0; i < _tensors.Length; i++)
            {
                if (_tensors[i].Mode == TensorMode.Input)
                    _probeInputs[i] = (long[])_shapes[i].Clone();
            }
        }

        long[] probed = _probeOutputs![outputIndex];
        if (probed.Length != dims.Length)
            throw new InvalidOperationException($"ONNX Runtime reports rank {probed.Length} for output '{_tensors[outputIndex].Name}', whose signature has rank {dims.Length}.");
        probed.CopyTo(dims);
        return true;
    }

    private bool SameInputShapes(long[][] snapshot)
    {
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i].Mode == TensorMode.Input && !snapshot[i].AsSpan().SequenceEqual(_shapes[i]))
                return false;
        }

        return true;
    }

    private long FindNamedDim(string name)
    {
        for (int i = 0; i < _tensors.Length; i++)
        {
            var t = _tensors[i];
            if (t.Mode != TensorMode.Input)
                continue;
            for (int d = 0; d < t.Rank; d++)
            {
                if (t.DimNames[d] == name && _shapes[i][d] >= 0)
                    return _shapes[i][d];
            }
        }

        return -1;
    }

    private void Bind(int i)
    {
        var t = _tensors[i];
        long bytes = t.GetByteCount(_shapes[i]);
        if (bytes > _capacity[i])
            throw new InvalidOperationException($"'{t.Name}' at shape {TensorBinding.FormatShape(_shapes[i])} needs {bytes} bytes, more than its {_capacity[i]}-byte buffer.");
        _values[i]?.Dispose();
        _values[i] = null;
        var value = OrtValue.CreateTensorValueWithData(_engine.CudaMemory, OrtSignature.ToOrt(t), (long[])_shapes[i].Clone(), _address[i], Math.Max(bytes, 0));
        _values[i] = value;
        if (t.Mode == TensorMode.Input)
            _binding!.BindInput(t.Name, value);
        else
            _binding!.BindOutput(t.Name, value);
        _bound[i] = true;
    }

    private TensorBinding Tensor(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)_tensors.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The model has {_tensors.Length} tensors.");
        return _tensors[index];
    }

    /// <summary>Frees the binding, the values and the session. The runner has drained the slot's stream first.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var v in _values)
            v?.Dispose();
        _binding?.Dispose();
        _thread?.Dispose();
        _runOptions?.Dispose();
        _session?.Dispose();
        _engine.ContextClosed();
    }
}
