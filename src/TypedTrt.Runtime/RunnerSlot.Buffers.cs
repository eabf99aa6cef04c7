using System.Runtime.InteropServices;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

// Buffers and shapes: allocation, input shapes checked against the profile, spans over the host buffers, output shapes.
internal sealed unsafe partial class RunnerSlot
{
    /// <summary>Allocates every tensor's buffers at the plan's capacities and binds them to the context.</summary>
    internal void AllocateBuffers()
    {
        CudaContext? cuda = Device.Cuda;
        for (int i = 0; i < _plan.Length; i++)
        {
            long cap = _plan[i].Capacity;
            _capacity[i] = cap;
            if (cuda is not null)
            {
                _pinned[i] = cuda.AllocatePinned(cap, Device.HostNumaNode); // on the device's host node when the driver tells it
                _host[i] = _pinned[i]!.Pointer;
                _device[i] = cuda.Allocate(cap);
                Context!.SetTensorAddress(i, (nint)_device[i]!.Address, cap);
            }
            else
            {
                _host[i] = (nint)NativeMemory.AlignedAlloc((nuint)cap, 256);
                NativeMemory.Clear((void*)_host[i], (nuint)cap);
                Context!.SetTensorAddress(i, _host[i], cap);
            }

            if (_plan[i].IsInput && !_plan[i].Binding.IsDynamic)
            {
                _plan[i].Binding.Shape.ToArray().CopyTo(_shapes[i], 0);
                _bytes[i] = _plan[i].Binding.GetByteCount(_shapes[i]);
                _shapeSet[i] = true;
            }
        }
    }

    /// <summary>The NUMA node of each pinned buffer (-1: the driver's allocation); empty for host engines.</summary>
    internal int[] PinnedNumaNodes() => [.. _pinned.Where(static p => p is not null).Select(static p => p!.NumaNode)];

    internal TensorPlan GetPlan(int tensorIndex, TensorMode mode)
    {
        if ((uint)tensorIndex >= (uint)_plan.Length)
            throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, $"The engine has {_plan.Length} tensors.");
        var p = _plan[tensorIndex];
        if (p.Binding.Mode != mode)
            throw new ArgumentException($"Tensor {tensorIndex} ('{p.Binding.Name}') is an {(p.IsInput ? "input" : "output")}, not an {(mode == TensorMode.Input ? "input" : "output")}.", nameof(tensorIndex));
        return p;
    }

    internal void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Input);
        var b = p.Binding;
        if (dims.Length != b.Rank)
            throw _runner.Metrics.Rejected(new ArgumentException($"Input '{b.Name}' has rank {b.Rank}; got a shape of rank {dims.Length} ({TensorBinding.FormatShape(dims)}).", nameof(dims)));
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] < p.Min[d] || dims[d] > p.Max[d])
            {
                string dimName = b.DimNames[d].Length > 0 ? $" ('{b.DimNames[d]}')" : "";
                string range = p.Min[d] == p.Max[d]
                    ? $"fixed at {p.Min[d]}"
                    : $"outside optimization profile {_runner.ProfileIndex}'s range {p.Min[d]}..{p.Max[d]}";
                throw _runner.Metrics.Rejected(new ArgumentException($"Input '{b.Name}' dimension {d}{dimName} is {dims[d]}, {(p.Min[d] == p.Max[d] ? "but it is " : "")}{range}.", nameof(dims)));
            }
        }

        if (b.IsDynamic)
            Context!.SetInputShape(tensorIndex, dims);
        dims.CopyTo(_shapes[tensorIndex]);
        _bytes[tensorIndex] = b.GetByteCount(dims);
        _shapeSet[tensorIndex] = true;
        _outputsValid = false;
    }

    internal Span<T> GetInputSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Input);
        CheckElementType<T>(p.Binding);
        if (!_shapeSet[tensorIndex])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions; call SetInputShape first.");
        return new Span<T>((void*)_host[tensorIndex], checked((int)(_bytes[tensorIndex] / sizeof(T))));
    }

    internal ReadOnlySpan<T> GetOutputSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Output);
        CheckElementType<T>(p.Binding);
        EnsureOutputs();
        return new ReadOnlySpan<T>((void*)_host[tensorIndex], checked((int)(_bytes[tensorIndex] / sizeof(T))));
    }

    internal ReadOnlySpan<long> GetInputShape(int tensorIndex)
    {
        var p = GetPlan(tensorIndex, TensorMode.Input);
        if (!_shapeSet[tensorIndex])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions; call SetInputShape first.");
        return _shapes[tensorIndex];
    }

    internal ReadOnlySpan<long> GetOutputShape(int tensorIndex)
    {
        EnsureNotRunning();
        GetPlan(tensorIndex, TensorMode.Output);
        EnsureOutputs();
        return _shapes[tensorIndex];
    }

    private void EnsureOutputs()
    {
        if (!_outputsValid)
            throw new InvalidOperationException("No outputs: the lease has no successfully completed RunAsync since its inputs last changed.");
    }

    internal static void CheckElementType<T>(TensorBinding b)
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
            return;
        bool ok = b.DataType switch
        {
            TensorDataType.Float => typeof(T) == typeof(float),
            TensorDataType.Half => typeof(T) == typeof(Half),
            TensorDataType.Int8 => typeof(T) == typeof(sbyte),
            TensorDataType.Int32 => typeof(T) == typeof(int),
            TensorDataType.Int64 => typeof(T) == typeof(long),
            TensorDataType.Bool => typeof(T) == typeof(bool),
            _ => false,
        };
        if (!ok)
            throw new ArgumentException($"Tensor '{b.Name}' has type '{b.DTypeName}'; read it as {ExpectedClrType(b.DataType)}, not {typeof(T).Name}.");
    }

    private static string ExpectedClrType(TensorDataType t) => t switch
    {
        TensorDataType.Float => "float (or byte)",
        TensorDataType.Half => "Half (or byte)",
        TensorDataType.Int8 => "sbyte (or byte)",
        TensorDataType.Int32 => "int (or byte)",
        TensorDataType.Int64 => "long (or byte)",
        TensorDataType.Bool => "bool (or byte)",
        _ => "byte (raw bytes)",
    };

    private void ResolveOutputShapes()
    {
        for (int i = 0; i < _plan.Length; i++)
        {
            var p = _plan[i];
            if (p.IsInput || p.SizedAtRun)
                continue; // outputs sized at run time get their shape from the engine during the run (NotifyShape)
            ResolveOutputShape(p);
        }
    }

    private void ResolveOutputShape(TensorPlan p)
    {
        int i = p.Index;
        Span<long> dims = stackalloc long[Math.Max(8, p.Binding.Rank)];
        int rank = Context!.GetTensorShape(i, dims);
        if (rank != p.Binding.Rank)
            throw new InvalidOperationException($"The engine reports rank {rank} for output '{p.Binding.Name}', whose signature has rank {p.Binding.Rank}.");
        for (int d = 0; d < rank; d++)
        {
            if (dims[d] < 0)
                throw new InvalidOperationException($"The engine left output '{p.Binding.Name}' dimension {d} unresolved at these input shapes, although it resolved it at the profile's max shapes when the runner was created (then the runner would have sized it at run time).");
        }

        long bytes = p.Binding.GetByteCount(dims[..rank]);
        if (bytes > p.Capacity)
            throw new InvalidOperationException($"Output '{p.Binding.Name}' needs {bytes} bytes at shape {TensorBinding.FormatShape(dims[..rank])}, more than its {p.Capacity}-byte buffer.");
        dims[..rank].CopyTo(_shapes[i]);
        _bytes[i] = bytes;
    }
}
