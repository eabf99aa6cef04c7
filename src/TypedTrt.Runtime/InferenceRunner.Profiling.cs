using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

// Stage profiling and copy-bandwidth measurements.
public sealed partial class InferenceRunner
{
    internal volatile bool ProfilingActive;
    private long _profileStart;

    /// <summary>
    /// Starts collecting per-stage timings. Device engines: CUDA events around each request's H2D copies, enqueue and
    /// D2H copies, and the idle gap of each slot's stream between requests (needs <see cref="CompletionMode.Polling"/>;
    /// profiled requests bypass CUDA graphs and cost four extra event records). Host engines: the backend's run is the
    /// compute stage (there are no copies) and the gap is each slot's idle time between runs. With dynamic batching
    /// each run is a batch, and the batching statistics start afresh (<see cref="GetBatchingStatistics"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">A device engine with <see cref="CompletionMode.Callback"/> (no CUDA calls are allowed in stream callbacks).</exception>
    public void StartProfiling()
    {
        if (Placement == BufferPlacement.Device && !HasPoller)
            throw new NotSupportedException("Stage profiling of a device engine needs CompletionMode.Polling (the default).");
        foreach (var slot in _slots)
            slot.ResetProfiling();
        _profileStart = System.Diagnostics.Stopwatch.GetTimestamp();
        ResetBatchingStatistics(); // the report's batching figures cover the profiled run
        ProfilingActive = true;
    }

    /// <summary>
    /// Stops profiling and returns the per-request averages of the requests completed since <see cref="StartProfiling"/>
    /// (call it after awaiting them), over all devices, with one entry per device in <see cref="Diagnostics.StageTimings.PerDevice"/>.
    /// Feed it to <see cref="Diagnostics.BottleneckReport.Analyze(Diagnostics.StageTimings, double)"/>.
    /// </summary>
    public Diagnostics.StageTimings StopProfiling()
    {
        if (!ProfilingActive)
            throw new InvalidOperationException("Profiling was not started.");
        ProfilingActive = false;
        double wall = System.Diagnostics.Stopwatch.GetElapsedTime(_profileStart).TotalSeconds;
        long inBytes = 0, outBytes = 0;
        foreach (var p in Placement == BufferPlacement.Device ? _plan : [])
        {
            if (p.IsInput)
                inBytes += p.Binding.GetByteCount(p.Max);
            else if (Array.IndexOf(p.Max, -1L) < 0) // an output sized at run time without a bound has no max
                outBytes += p.Binding.GetByteCount(p.Max);
        }

        var sum = default(StageAccumulator);
        var perDevice = new Diagnostics.StageTimings[_devices.Length];
        for (int d = 0; d < _devices.Length; d++)
        {
            var dev = default(StageAccumulator);
            foreach (var slot in _devices[d].Slots)
                dev.AddFrom(slot.Stages);
            sum.AddFrom(dev);
            perDevice[d] = Aggregate(dev, _devices[d].Slots.Length, wall, inBytes, outBytes) with { DeviceOrdinal = _devices[d].Ordinal };
        }

        return Aggregate(sum, _slots.Length, wall, inBytes, outBytes) with
        {
            DeviceOrdinal = _devices.Length == 1 ? _devices[0].Ordinal : -1,
            PerDevice = perDevice,
            Batching = GetBatchingStatistics(),
        };
    }

    /// <summary>
    /// Measures the pinned host→device peak of every device of this runner (<see cref="MeasurePinnedH2DPeak"/> on each),
    /// keyed by device ordinal: the reference for <see cref="Diagnostics.BottleneckReport.Analyze(Diagnostics.StageTimings, IReadOnlyDictionary{int, double})"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">A host engine.</exception>
    public IReadOnlyDictionary<int, double> MeasurePinnedH2DPeaks(long bytes = 64L << 20, int repeats = 20)
    {
        if (Cuda is null)
            throw new NotSupportedException("Host engines copy no inputs.");
        var peaks = new Dictionary<int, double>();
        foreach (var dev in _devices)
            peaks[dev.Ordinal] = MeasurePinnedH2DPeak(bytes, repeats, dev.Ordinal);
        return peaks;
    }

    /// <summary>Per-request means from stage sums (the profiling aggregation, separate for testing).</summary>
    internal static Diagnostics.StageTimings Aggregate(in StageAccumulator sum, int streams, double wallSeconds, long h2dBytes, long d2hBytes)
    {
        long n = sum.Requests;
        return new Diagnostics.StageTimings(
            n,
            streams,
            wallSeconds,
            n > 0 ? sum.H2D / n : 0,
            n > 0 ? sum.Compute / n : 0,
            n > 0 ? sum.D2H / n : 0,
            sum.GapCount > 0 ? sum.Gap / sum.GapCount : 0,
            h2dBytes,
            d2hBytes);
    }

    /// <summary>
    /// Measures the pinned host→device peak on this runner's device: <paramref name="repeats"/> back-to-back copies
    /// of <paramref name="bytes"/> from pinned memory, timed with CUDA events. The reference for
    /// <see cref="Diagnostics.BottleneckReport.Analyze(Diagnostics.StageTimings, double)"/>.
    /// </summary>
    /// <returns>GB/s (10^9 bytes per second).</returns>
    public static double MeasurePinnedH2DPeak(long bytes = 64L << 20, int repeats = 20, int deviceOrdinal = 0)
    {
        using var cuda = CudaContext.RetainPrimary(deviceOrdinal);
        using var host = cuda.AllocatePinned(bytes);
        using var dev = cuda.Allocate(bytes);
        using var stream = cuda.CreateStream();
        using var a = cuda.CreateEvent(enableTiming: true);
        using var b = cuda.CreateEvent(enableTiming: true);
        for (int i = 0; i < 3; i++)
            stream.CopyToDevice(dev, host.Pointer, bytes);
        a.Record(stream);
        for (int i = 0; i < repeats; i++)
            stream.CopyToDevice(dev, host.Pointer, bytes);
        b.Record(stream);
        b.Synchronize();
        double us = b.ElapsedSince(a) * 1000.0 / repeats;
        return bytes / us / 1e3;
    }

    /// <summary>
    /// Measures the host→device bandwidth of one slot's input copies: <paramref name="repeats"/> back-to-back copies of
    /// every input at its max shape from the slot's pinned buffers, timed with CUDA events (the method of
    /// native-pipeline.cu's stage line). Leases a slot for the measurement.
    /// </summary>
    /// <returns>GB/s (10^9 bytes per second) and the mean microseconds per copy round, the median of five timed batches.</returns>
    /// <exception cref="NotSupportedException">A host engine.</exception>
    public async ValueTask<(double GigabytesPerSecond, double Microseconds)> MeasureInputCopyBandwidthAsync(int repeats = 20, CancellationToken cancellationToken = default)
    {
        if (Cuda is null)
            throw new NotSupportedException("Host engines copy no inputs.");
        RunnerSlot slot = await AcquireSlotAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Median of five batches: one batch is easily disturbed by other work on a shared machine.
            var times = new double[5];
            long bytes = 0;
            for (int i = 0; i < times.Length; i++)
                (bytes, times[i]) = slot.TimeInputCopies(repeats);
            Array.Sort(times);
            double us = times[times.Length / 2];
            return (us > 0 ? bytes / us / 1e3 : 0, us);
        }
        finally
        {
            slot.Release();
        }
    }
}
