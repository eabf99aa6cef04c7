using System.Diagnostics;
using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

// Stage profiling: timing events around each request's stages, and copy-bandwidth measurement.
internal sealed unsafe partial class RunnerSlot
{
    // Stage profiling: two sets (alternating per request) of four timing events: start, after H2D, after enqueue, after D2H.
    private CudaEvent[]? _timing;
    private int _timingSet;
    private bool _timedThisRequest;
    private bool _haveLastEnd;
    internal StageAccumulator Stages;

    private long _hostLastEnd;

    private bool EnsureTimingEvents()
    {
        if (_timing is null)
        {
            var t = new CudaEvent[8];
            for (int i = 0; i < t.Length; i++)
                t[i] = Device.Cuda!.CreateEvent(enableTiming: true);
            _timing = t;
        }

        return true;
    }

    /// <summary>After a profiled request completed: adds its stage times (and the idle gap since the slot's previous request).</summary>
    private void CollectStageTimes()
    {
        if (!_timedThisRequest || _timing is null)
            return;
        _timedThisRequest = false;
        int b = _timingSet * 4;
        float h2d, comp, d2h, gap = -1;
        if (CudaNative.cuEventElapsedTime(&h2d, _timing[b].Handle, _timing[b + 1].Handle) != 0
            || CudaNative.cuEventElapsedTime(&comp, _timing[b + 1].Handle, _timing[b + 2].Handle) != 0
            || CudaNative.cuEventElapsedTime(&d2h, _timing[b + 2].Handle, _timing[b + 3].Handle) != 0)
            return;
        int prev = (1 - _timingSet) * 4;
        if (_haveLastEnd && CudaNative.cuEventElapsedTime(&gap, _timing[prev + 3].Handle, _timing[b].Handle) != 0)
            gap = -1;
        Stages.Add(h2d * 1000.0, comp * 1000.0, d2h * 1000.0, gap >= 0 ? gap * 1000.0 : -1);
        _runner.Metrics.RecordStages(h2d * 1000.0, comp * 1000.0, d2h * 1000.0, gap >= 0 ? gap * 1000.0 : -1);
        _haveLastEnd = true;
        _timingSet = 1 - _timingSet;
    }

    /// <summary>
    /// Times <paramref name="repeats"/> back-to-back H2D copies of every input (max shape) from this slot's pinned
    /// buffers, as native-pipeline's stage line times its pinned copy. The slot must be idle.
    /// </summary>
    internal (long Bytes, double Microseconds) TimeInputCopies(int repeats)
    {
        var cuda = Device.Cuda!;
        cuda.MakeCurrent();
        nint stream = Stream!.Handle;
        long bytes = 0;
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput)
                bytes += _plan[i].Binding.GetByteCount(_plan[i].Max);
        }

        using var a = cuda.CreateEvent(enableTiming: true);
        using var b = cuda.CreateEvent(enableTiming: true);
        void Copies()
        {
            for (int i = 0; i < _plan.Length; i++)
            {
                long n = _plan[i].Binding.GetByteCount(_plan[i].Max);
                if (_plan[i].IsInput && n > 0)
                    CudaException.Check(CudaNative.cuMemcpyHtoDAsync_v2(_device[i]!.Address, (void*)_host[i], (nuint)n, stream), "cuMemcpyHtoDAsync_v2");
            }
        }

        for (int w = 0; w < 3; w++)
            Copies();
        a.Record(Stream);
        for (int r = 0; r < repeats; r++)
            Copies();
        b.Record(Stream);
        b.Synchronize();
        return (bytes, b.ElapsedSince(a) * 1000.0 / repeats);
    }

    internal void ResetProfiling()
    {
        Stages = default;
        _haveLastEnd = false;
    }

    /// <summary>Host engines: the run itself is the compute stage (no copies); the gap is the slot's idle time since its previous run.</summary>
    private void AddHostStageTimes(long start, long end)
    {
        double gap = _haveLastEnd ? Stopwatch.GetElapsedTime(_hostLastEnd, start).TotalMicroseconds : -1;
        Stages.Add(0, Stopwatch.GetElapsedTime(start, end).TotalMicroseconds, 0, gap);
        _runner.Metrics.RecordStages(0, Stopwatch.GetElapsedTime(start, end).TotalMicroseconds, 0, gap);
        _hostLastEnd = end;
        _haveLastEnd = true;
    }
}
