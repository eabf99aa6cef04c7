using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

// Execution and completion: one request's enqueue (device or thread pool) and its completion by poller, stream callback or work item.
internal sealed unsafe partial class RunnerSlot : IValueTaskSource, IThreadPoolWorkItem
{
    // Polling completion (device engines, CompletionMode.Polling): the event recorded after the request's last copy,
    // and 1 while the completion poller should watch it.
    private CudaEvent? _done;
    internal int Pending;

    /// <summary>Taken by the dynamic batcher: the run is a batch, whose requests the batcher reports to the metrics.</summary>
    internal bool ForBatch;
    private bool _outputShapesFixed;

    /// <summary>Starts one request: H2D, enqueue, D2H (device) or enqueue on the thread pool (host).</summary>
    internal ValueTask RunAsync(CancellationToken cancellationToken)
    {
        EnsureNotRunning();
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        try
        {
            for (int i = 0; i < _plan.Length; i++)
            {
                if (_plan[i].IsInput && !_shapeSet[i])
                    throw new InvalidOperationException($"Input '{_plan[i].Binding.Name}' has dynamic dimensions; call SetInputShape before RunAsync.");
            }

            // With only static inputs the output shapes never change: resolved on the first request, then reused.
            if (!_outputShapesFixed)
            {
                ResolveOutputShapes();
                _outputShapesFixed = _runner.OutputShapesFixed;
            }

            ResetRunTimeShapes();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ValueTask.FromException(ex);
        }

        _runner.Metrics.OnRunStart(ref Request, BatchRows());
        _outputsValid = false;
        _status = 0;
        _core.Reset();
        short version = _core.Version; // read before the request can complete (and the slot be leased again)
        Volatile.Write(ref State, Running);
        if (!IsDevice)
        {
            _token = cancellationToken;
            if (_runner.HostExecution == HostExecution.Inline)
                RunHost(); // completes the source before returning: the caller's await finishes synchronously
            else
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return new ValueTask(this, version);
        }

        try
        {
            Device.Cuda!.MakeCurrent();
            nint stream = Stream!.Handle;
            bool profiling = _runner.ProfilingActive && EnsureTimingEvents();
            _timedThisRequest = profiling;
            if (!profiling && _runner.UseCudaGraphs && !GraphDisabled)
            {
                if (_graph is null)
                    TryCapture(stream);
                if (_graph is not null)
                {
                    CudaException.Check(CudaNative.cuGraphLaunch(_graph.ExecHandle, stream), "cuGraphLaunch");
                    Interlocked.Increment(ref _runner.GraphLaunches);
                }
                else
                {
                    EnqueueWork(stream, false);
                }
            }
            else
            {
                EnqueueWork(stream, profiling);
            }

            if (_done is not null)
            {
                CudaException.Check(CudaNative.cuEventRecord(_done.Handle, stream), "cuEventRecord");
                Device.Poller!.Submit(this);
            }
            else
            {
                CudaException.Check(CudaNative.cuStreamAddCallback(stream, &OnStreamDone, GCHandle.ToIntPtr(_self), 0), "cuStreamAddCallback");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The request fails on its own; work already queued on the stream is drained so the slot starts clean.
            try
            {
                Stream!.Synchronize();
            }
            catch (CudaException)
            {
            }

            Complete(ex);
        }

        return new ValueTask(this, version);
    }

    private void EnqueueWork(nint stream, bool profiling)
    {
        CudaEvent[]? t = profiling ? _timing : null;
        int b = _timingSet * 4;
        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b].Handle, stream), "cuEventRecord");
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput && _bytes[i] > 0)
                CudaException.Check(CudaNative.cuMemcpyHtoDAsync_v2(_device[i]!.Address, (void*)_host[i], (nuint)_bytes[i], stream), "cuMemcpyHtoDAsync_v2");
        }

        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 1].Handle, stream), "cuEventRecord");
        Context!.Enqueue(stream);
        if (_runner.HasRunTimeSizedOutputs)
            CheckRunTimeShapes(); // the engine has reported their shapes (and sized their buffers) during the enqueue
        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 2].Handle, stream), "cuEventRecord");
        for (int i = 0; i < _plan.Length; i++)
        {
            if (!_plan[i].IsInput && _bytes[i] > 0)
                CudaException.Check(CudaNative.cuMemcpyDtoHAsync_v2((void*)_host[i], _device[i]!.Address, (nuint)_bytes[i], stream), "cuMemcpyDtoHAsync_v2");
        }

        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 3].Handle, stream), "cuEventRecord");
    }

    /// <summary>Poller thread: checks the completion event; completes the request when its work is done.</summary>
    internal bool PollDone()
    {
        int rc = CudaNative.cuEventQuery(_done!.Handle);
        if (rc == 600)
            return false;
        _status = rc;
        Volatile.Write(ref Pending, 0);
        if (rc == 0)
            CollectStageTimes();
        Complete(null);
        return true;
    }

    /// <summary>Host engines: runs the context on a thread-pool thread.</summary>
    void IThreadPoolWorkItem.Execute() => RunHost();

    /// <summary>Host engines: runs the context on this thread and completes the request.</summary>
    private void RunHost()
    {
        Exception? error = null;
        try
        {
            _token.ThrowIfCancellationRequested();
            bool profiling = _runner.ProfilingActive;
            long start = profiling ? Stopwatch.GetTimestamp() : 0;
            Context!.Enqueue(0);
            if (_runner.HasRunTimeSizedOutputs)
                CheckRunTimeShapes(); // their shapes came from the engine during the run; the others were resolved before it
            if (profiling)
                AddHostStageTimes(start, Stopwatch.GetTimestamp());
        }
#pragma warning disable CA1031 // every failure belongs to this request only
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        _token = default;
        Complete(error);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnStreamDone(nint stream, int status, nint userData)
    {
        // Runs on a CUDA driver thread: no CUDA calls here, and nothing may throw into the driver.
        try
        {
            var slot = (RunnerSlot)GCHandle.FromIntPtr(userData).Target!;
            slot._status = status;
            slot.Complete(null);
        }
#pragma warning disable CA1031
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private void Complete(Exception? error)
    {
        if (ForBatch)
            Request = default; // the batch's requests end one by one in the batcher (each counted, timed, traced)
        else
            _runner.Metrics.OnRunEnd(ref Request, error, _status);
        _outputsValid = error is null && _status == 0;
        int prev = Interlocked.CompareExchange(ref State, Leased, Running);
        bool release = prev == RunningReleaseRequested;
        if (release)
            Volatile.Write(ref State, Free);
        if (error is null)
            _core.SetResult(true);
        else
            _core.SetException(error);
        if (release)
            _runner.ReturnSlot(this);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token);
        int status = _status;
        if (status != 0)
            throw new CudaException(status, "the request's stream work (H2D copies, engine enqueue, D2H copies)");
    }
}
