using System.Runtime.InteropServices;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

// Outputs sized at run time: the slot is the engine's output allocator. It keeps the largest buffer it was asked for
// (device buffer and pinned mirror for device engines, aligned native memory for host engines), so once the largest
// shape has been seen a request allocates nothing.
internal sealed unsafe partial class RunnerSlot : IOutputAllocator
{
    /// <summary>Gives the context this slot as allocator for every output sized at run time.</summary>
    internal void AttachOutputAllocators(IInferenceEngine engine)
    {
        foreach (var p in _plan)
        {
            if (!p.SizedAtRun)
                continue;
            try
            {
                Context!.SetOutputAllocator(p.Index, this);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException(
                    $"Output '{p.Binding.Name}' has a shape known only after the run ({TensorBinding.FormatShape(p.Binding.Shape)}), and the engine {engine.GetType().Name} cannot size outputs at run time: {e.Message}", e);
            }
        }
    }

    /// <summary>The current capacity of a tensor's buffers in this slot.</summary>
    internal long GetCapacity(int tensorIndex) => _capacity[tensorIndex];

    nint IOutputAllocator.ReallocateOutput(int tensorIndex, nint currentAddress, long bytes, long alignment, nint stream)
    {
        if ((uint)tensorIndex >= (uint)_plan.Length || !_plan[tensorIndex].SizedAtRun || bytes < 0 || alignment > 256 || (alignment & (alignment - 1)) != 0)
            return 0;
        if (bytes > _capacity[tensorIndex])
            Grow(tensorIndex, bytes);
        return IsDevice ? (nint)_device[tensorIndex]!.Address : _host[tensorIndex];
    }

    void IOutputAllocator.NotifyShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        if ((uint)tensorIndex >= (uint)_plan.Length || !_plan[tensorIndex].SizedAtRun)
            return;
        var b = _plan[tensorIndex].Binding;
        if (dims.Length != b.Rank)
        {
            _shapeError ??= $"The engine reported shape {TensorBinding.FormatShape(dims)} for output '{b.Name}', whose rank is {b.Rank}.";
            return;
        }

        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] < 0 || (b.Shape[d] >= 0 && dims[d] != b.Shape[d]))
            {
                _shapeError ??= $"The engine reported shape {TensorBinding.FormatShape(dims)} for output '{b.Name}', which does not fit its signature {TensorBinding.FormatShape(b.Shape)}.";
                return;
            }
        }

        long bytes = b.GetByteCount(dims);
        if (bytes > _capacity[tensorIndex])
        {
            _shapeError ??= $"The engine reported shape {TensorBinding.FormatShape(dims)} ({bytes} bytes) for output '{b.Name}' but asked for only {_capacity[tensorIndex]} bytes.";
            return;
        }

        dims.CopyTo(_shapes[tensorIndex]);
        _bytes[tensorIndex] = bytes;
        _notified[tensorIndex] = true;
    }

    /// <summary>Before a run: outputs sized at run time have no shape until the engine reports one.</summary>
    private void ResetRunTimeShapes()
    {
        _shapeError = null;
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].SizedAtRun)
                _notified[i] = false;
        }
    }

    /// <summary>After the engine's enqueue: every output sized at run time must have been given a shape.</summary>
    private void CheckRunTimeShapes()
    {
        if (_shapeError is { } error)
            throw new InvalidOperationException(error);
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].SizedAtRun && !_notified[i])
                throw new InvalidOperationException($"The engine did not report the shape of output '{_plan[i].Binding.Name}' (sized at run time) during the run.");
        }
    }

    /// <summary>Replaces a tensor's buffers by larger ones (the old contents are not needed: the engine writes the output anew).</summary>
    private void Grow(int i, long bytes)
    {
        // Grow by at least half again, so a slowly rising size does not reallocate on every request.
        long cap = InferenceRunner.Capacity(Math.Max(bytes, _capacity[i] + (_capacity[i] / 2)));
        if (IsDevice)
        {
            var cuda = _runner.Cuda!;
            var device = cuda.Allocate(cap);
            PinnedBuffer pinned;
            try
            {
                pinned = cuda.AllocatePinned(cap);
            }
            catch
            {
                device.Dispose();
                throw;
            }

            // The slot's previous request has completed and this one has not written the output yet, so the old
            // buffers are unused (cuMemFree waits for the device where needed).
            _device[i]?.Dispose();
            _pinned[i]?.Dispose();
            _device[i] = device;
            _pinned[i] = pinned;
            _host[i] = pinned.Pointer;
        }
        else
        {
            nint host = (nint)NativeMemory.AlignedAlloc((nuint)cap, 256);
            if (_host[i] != 0)
                NativeMemory.AlignedFree((void*)_host[i]);
            _host[i] = host;
        }

        _capacity[i] = cap;
        Interlocked.Increment(ref _runner.OutputGrowths);
    }
}
