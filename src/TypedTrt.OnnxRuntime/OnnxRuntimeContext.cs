using Microsoft.ML.OnnxRuntime;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.OnnxRuntime;

/// <summary>
/// One slot's view of the shared session: its own <see cref="OrtIoBinding"/> over the slot's host buffers. Tensor values
/// are re-created only when a shape or address changes, so repeated requests with the same shapes allocate none.
/// Output shapes are resolved from input shapes through dimension names (e.g. an output's <c>batch</c> is the input's
/// <c>batch</c>); an output whose dims cannot be resolved that way (its shape is known only after the run) is allocated
/// by ONNX Runtime and copied after the run into the memory its <see cref="IOutputAllocator"/> provides (the runner's
/// slot buffer, grown when needed), or without an allocator into the bound buffer if it fits.
/// </summary>
internal sealed class OnnxRuntimeContext : IEngineContext
{
    private readonly OnnxRuntimeEngine _engine;
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly TensorBinding[] _tensors;
    private readonly long[][] _shapes;
    private readonly nint[] _address;
    private readonly long[] _capacity;
    private readonly OrtValue?[] _values;
    private readonly bool[] _bound;
    private readonly bool[] _resolvedByOrt;
    private readonly IOutputAllocator?[] _allocators;
    private bool _disposed;

    public OnnxRuntimeContext(OnnxRuntimeEngine engine, InferenceSession session)
    {
        _engine = engine;
        _session = session;
        _binding = session.CreateIoBinding();
        _tensors = engine.Signature.Tensors.ToArray();
        int n = _tensors.Length;
        _shapes = new long[n][];
        _address = new nint[n];
        _capacity = new long[n];
        _values = new OrtValue?[n];
        _bound = new bool[n];
        _resolvedByOrt = new bool[n];
        _allocators = new IOutputAllocator?[n];
        for (int i = 0; i < n; i++)
            _shapes[i] = _tensors[i].Shape.ToArray();
    }

    public void SetOptimizationProfile(int profileIndex, nint stream)
    {
        // ONNX Runtime has no optimization profiles: any shape within the model's dims runs.
        if (profileIndex < 0 || (profileIndex > 0 && profileIndex >= _engine.Signature.Profiles.Count))
            throw new ArgumentOutOfRangeException(nameof(profileIndex), profileIndex, $"The model has {_engine.Signature.Profiles.Count} profile(s).");
    }

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
        // An output whose shape is known only after the run reports the last run's shape (-1 dims before the first).
        if (t.Mode == TensorMode.Output && !_resolvedByOrt[tensorIndex])
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

    public void SetOutputAllocator(int tensorIndex, IOutputAllocator? allocator)
    {
        var t = Tensor(tensorIndex);
        if (t.Mode != TensorMode.Output)
            throw new ArgumentException($"'{t.Name}' is an input; only outputs can be sized at run time.", nameof(tensorIndex));
        _allocators[tensorIndex] = allocator;
    }

    public void Enqueue(nint stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < _tensors.Length; i++)
        {
            var t = _tensors[i];
            if (_address[i] == 0)
                throw new InvalidOperationException($"No buffer is bound to '{t.Name}'; call SetTensorAddress first.");
            if (t.Mode == TensorMode.Input)
            {
                if (Array.IndexOf(_shapes[i], -1L) >= 0)
                    throw new InvalidOperationException($"The shape of input '{t.Name}' {TensorBinding.FormatShape(_shapes[i])} has dynamic dimensions; call SetInputShape first.");
                if (!_bound[i])
                    Bind(i, isInput: true);
            }
        }

        bool anyByOrt = false;
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i].Mode != TensorMode.Output)
                continue;
            if (ResolveOutputShape(i))
            {
                _resolvedByOrt[i] = false;
                if (!_bound[i])
                    Bind(i, isInput: false);
            }
            else
            {
                // Known only after the run: ONNX Runtime allocates it (from its arena) and it is copied out afterwards.
                // Bound anew every run: the binding keeps the previous run's output, whose shape ORT would enforce.
                _values[i]?.Dispose();
                _values[i] = null;
                _binding.BindOutputToDevice(_tensors[i].Name, OrtMemoryInfo.DefaultInstance);
                _bound[i] = false;
                _resolvedByOrt[i] = true;

                anyByOrt = true;
            }
        }

        try
        {
            _session.RunWithBinding(_runOptions, _binding);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"ONNX Runtime failed to run '{_engine.ModelPath}': {e.Message}", e);
        }

        if (anyByOrt)
            CopyOrtAllocatedOutputs();
    }

    private void CopyOrtAllocatedOutputs()
    {
        using var outputs = _binding.GetOutputValues();
        int k = 0;
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i].Mode != TensorMode.Output)
                continue;
            var value = outputs[k++];
            if (!_resolvedByOrt[i])
                continue;
            var t = _tensors[i];
            long[] shape = value.GetTensorTypeAndShape().Shape;
            if (shape.Length != t.Rank)
                throw new InvalidOperationException($"ONNX Runtime returned output '{t.Name}' with shape {TensorBinding.FormatShape(shape)}, whose rank differs from the model's {t.Rank}.");
            long bytes = t.GetByteCount(shape);
            if (_allocators[i] is { } allocator)
            {
                nint address = allocator.ReallocateOutput(i, _address[i], bytes, 256, 0);
                if (address == 0)
                    throw new InvalidOperationException($"No memory for output '{t.Name}' at shape {TensorBinding.FormatShape(shape)} ({bytes} bytes): the output allocator returned null.");
                if (address != _address[i])
                {
                    _address[i] = address;
                    _capacity[i] = bytes;
                }
            }
            else if (bytes > _capacity[i])
            {
                throw new InvalidOperationException($"Output '{t.Name}' has shape {TensorBinding.FormatShape(shape)} ({bytes} bytes), more than its {_capacity[i]}-byte buffer; give the context an output allocator (SetOutputAllocator) to size it at run time.");
            }

            if (bytes > 0)
            {
                unsafe
                {
                    value.GetTensorDataAsSpan<byte>()[..checked((int)bytes)].CopyTo(new Span<byte>((void*)_address[i], checked((int)bytes)));
                }
            }

            _shapes[i] = shape;
            _allocators[i]?.NotifyShape(i, shape);
        }
    }

    /// <summary>Resolves an output's dynamic dims from the inputs' named dims; false if a dim stays unknown.</summary>
    private bool ResolveOutputShape(int outputIndex)
    {
        var t = _tensors[outputIndex];
        long[] shape = _shapes[outputIndex];
        bool ok = true;
        for (int d = 0; d < t.Rank; d++)
        {
            long value = t.Shape[d];
            if (value < 0)
            {
                value = t.DimNames[d].Length > 0 ? FindNamedDim(t.DimNames[d]) : -1;
                ok &= value >= 0;
            }

            if (shape[d] != value)
            {
                shape[d] = value;
                _bound[outputIndex] = false;
            }
        }

        return ok;
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

    private void Bind(int i, bool isInput)
    {
        var t = _tensors[i];
        long bytes = t.GetByteCount(_shapes[i]);
        if (bytes > _capacity[i])
            throw new InvalidOperationException($"'{t.Name}' at shape {TensorBinding.FormatShape(_shapes[i])} needs {bytes} bytes, more than its {_capacity[i]}-byte buffer.");
        _values[i]?.Dispose();
        var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, OrtSignature.ToOrt(t), (long[])_shapes[i].Clone(), _address[i], Math.Max(bytes, 0));
        _values[i] = value;
        if (isInput)
            _binding.BindInput(t.Name, value);
        else
            _binding.BindOutput(t.Name, value);
        _bound[i] = true;
    }

    private TensorBinding Tensor(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)_tensors.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The model has {_tensors.Length} tensors.");
        return _tensors[index];
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var v in _values)
            v?.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _engine.ContextClosed();
    }
}
