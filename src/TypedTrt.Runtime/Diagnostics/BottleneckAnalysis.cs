using System.Globalization;
using System.Text;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>What limits a run's throughput.</summary>
public enum Bottleneck
{
    /// <summary>Host↔device copies take longer than the compute: more streams only help while a copy engine idles; shrink or compress IO (fp16, uint8) instead.</summary>
    Pcie,

    /// <summary>The engine's kernels take longest: a faster engine (precision, batch) helps; extra streams overlap copies with compute but cannot beat this floor.</summary>
    Compute,

    /// <summary>The GPU waits for the host: per-request host work (scheduling, copies into pinned buffers, launch overhead) dominates; use more streams, CUDA graphs or larger batches.</summary>
    Host,
}

/// <summary>Per-request averages of one run's stages, measured with CUDA events on each slot's stream.</summary>
/// <param name="Requests">Requests completed in the run.</param>
/// <param name="Streams">Slots (streams) used.</param>
/// <param name="WallSeconds">Host wall time of the whole run.</param>
/// <param name="H2DMicroseconds">Mean host→device copy time per request.</param>
/// <param name="ComputeMicroseconds">Mean engine (enqueue→done) time per request.</param>
/// <param name="D2HMicroseconds">Mean device→host copy time per request.</param>
/// <param name="HostGapMicroseconds">Mean time a slot's stream sat idle between its requests (host scheduling, callbacks, copies into the slot).</param>
/// <param name="H2DBytes">Bytes copied host→device per request.</param>
/// <param name="D2HBytes">Bytes copied device→host per request.</param>
public sealed record StageTimings(
    long Requests,
    int Streams,
    double WallSeconds,
    double H2DMicroseconds,
    double ComputeMicroseconds,
    double D2HMicroseconds,
    double HostGapMicroseconds,
    long H2DBytes,
    long D2HBytes)
{
    /// <summary>The device these timings are of; -1 for the total over several devices (and for timings built by hand).</summary>
    public int DeviceOrdinal { get; init; } = -1;

    /// <summary>
    /// The same run per device (each with its <see cref="DeviceOrdinal"/>, its slots as <see cref="Streams"/> and its
    /// requests), from <see cref="InferenceRunner.StopProfiling"/>; one entry for a one-device runner, empty for timings built by hand.
    /// </summary>
    public IReadOnlyList<StageTimings> PerDevice { get; init; } = [];

    /// <summary>Requests per second over the run's wall time.</summary>
    public double Throughput => WallSeconds > 0 ? Requests / WallSeconds : 0;

    /// <summary>Achieved host→device bandwidth during copies, in GB/s (10^9 bytes).</summary>
    public double H2DGigabytesPerSecond => H2DMicroseconds > 0 ? H2DBytes / H2DMicroseconds / 1e3 : 0;

    /// <summary>Achieved device→host bandwidth during copies, in GB/s.</summary>
    public double D2HGigabytesPerSecond => D2HMicroseconds > 0 ? D2HBytes / D2HMicroseconds / 1e3 : 0;

    /// <summary>
    /// The dynamic batcher's statistics over the profiled run (batching runners only; profiling starts them afresh).
    /// With batching, <see cref="Requests"/> and the stage times count batches (one enqueue each).
    /// </summary>
    public Batching.BatchingStatistics? Batching { get; init; }
}

/// <summary>
/// Classifies a run as PCIe-, compute- or host-bound from its stage timings, following the method: time each stage
/// with CUDA events, compare the achieved copy bandwidth with the measured pinned peak, and compare the achieved
/// per-request time with the floor that perfect overlap of copies and compute would give.
/// </summary>
public sealed class BottleneckReport
{
    /// <summary>Achieved time per request above this multiple of the device floor counts as host-bound.</summary>
    public const double HostBoundFactor = 1.25;

    private BottleneckReport(StageTimings timings, double peak, Bottleneck bottleneck, double floorUs, double achievedUs, IReadOnlyList<BottleneckReport>? devices = null)
    {
        Devices = devices ?? [];
        Timings = timings;
        PeakH2DGigabytesPerSecond = peak;
        Bottleneck = bottleneck;
        DeviceFloorMicroseconds = floorUs;
        AchievedMicroseconds = achievedUs;
    }

    /// <summary>
    /// One report per device when the run used several (<see cref="StageTimings.PerDevice"/> with two or more entries);
    /// empty otherwise. This report is then the total: peak = the devices' peaks summed, floor = the per-request time if
    /// every device ran at its own floor, and the bottleneck of the device with the largest floor.
    /// </summary>
    public IReadOnlyList<BottleneckReport> Devices { get; }

    /// <summary>The timings analysed.</summary>
    public StageTimings Timings { get; }

    /// <summary>The measured pinned host→device peak the copies are compared with (GB/s).</summary>
    public double PeakH2DGigabytesPerSecond { get; }

    /// <summary>The classification.</summary>
    public Bottleneck Bottleneck { get; }

    /// <summary>Per-request time if copies and compute overlapped perfectly: the slowest device stage (copy engines run H2D and D2H concurrently).</summary>
    public double DeviceFloorMicroseconds { get; }

    /// <summary>Achieved wall time per request (wall ÷ requests).</summary>
    public double AchievedMicroseconds { get; }

    /// <summary>Share of device time spent in each stage: H2D, compute, D2H (sums to 1).</summary>
    public (double H2D, double Compute, double D2H) StageShares
    {
        get
        {
            double sum = Timings.H2DMicroseconds + Timings.ComputeMicroseconds + Timings.D2HMicroseconds;
            return sum <= 0 ? (0, 0, 0) : (Timings.H2DMicroseconds / sum, Timings.ComputeMicroseconds / sum, Timings.D2HMicroseconds / sum);
        }
    }

    /// <summary>Whether the run had no host↔device copies at all (a host backend such as ONNX Runtime on the CPU).</summary>
    public bool IsHostBackend => Timings.H2DBytes == 0 && Timings.D2HBytes == 0 && Timings.H2DMicroseconds == 0 && Timings.D2HMicroseconds == 0;

    /// <summary>
    /// Whether several streams shared the copy engine, so that event-timed copies include queueing behind other
    /// streams' copies and understate bandwidth; copies are then judged by bytes moved per second of wall time.
    /// </summary>
    public bool CopiesQueued => Timings.Streams > 1 || Devices.Count > 1;

    /// <summary>
    /// Achieved H2D bandwidth (GB/s): during the copies for one stream; for several streams, input bytes moved per
    /// second of the whole run (queueing cannot inflate it, and at the copy ceiling it equals the copy engine's rate).
    /// </summary>
    public double AchievedH2DGigabytesPerSecond => CopiesQueued ? Timings.H2DBytes * Timings.Throughput / 1e9 : Timings.H2DGigabytesPerSecond;

    /// <summary>Achieved H2D bandwidth as a fraction of the pinned peak (0 when unknown).</summary>
    public double H2DEfficiency => PeakH2DGigabytesPerSecond > 0 ? AchievedH2DGigabytesPerSecond / PeakH2DGigabytesPerSecond : 0;

    /// <summary>Analyses a run (every device compared with the same pinned peak).</summary>
    /// <param name="timings">Per-request stage averages.</param>
    /// <param name="peakH2DGigabytesPerSecond">Pinned H2D peak measured on this machine (e.g. a large cuMemcpyHtoDAsync from pinned memory); 0 if unknown.</param>
    public static BottleneckReport Analyze(StageTimings timings, double peakH2DGigabytesPerSecond)
    {
        ArgumentNullException.ThrowIfNull(timings);
        return Analyze(timings, _ => peakH2DGigabytesPerSecond);
    }

    /// <summary>Analyses a run on several devices, each compared with its own pinned peak (<see cref="InferenceRunner.MeasurePinnedH2DPeaks"/>).</summary>
    /// <param name="timings">Per-request stage averages with <see cref="StageTimings.PerDevice"/>.</param>
    /// <param name="peakH2DGigabytesPerSecondByDevice">Pinned H2D peak per device ordinal; a missing device counts as unknown (0).</param>
    public static BottleneckReport Analyze(StageTimings timings, IReadOnlyDictionary<int, double> peakH2DGigabytesPerSecondByDevice)
    {
        ArgumentNullException.ThrowIfNull(timings);
        ArgumentNullException.ThrowIfNull(peakH2DGigabytesPerSecondByDevice);
        return Analyze(timings, d => peakH2DGigabytesPerSecondByDevice.TryGetValue(d, out double p) ? p : 0);
    }

    private static BottleneckReport Analyze(StageTimings timings, Func<int, double> peakOf)
    {
        if (timings.Requests <= 0 || timings.WallSeconds <= 0)
            throw new ArgumentException("A run needs at least one request and a positive wall time.", nameof(timings));
        if (timings.PerDevice.Count < 2)
            return AnalyzeOne(timings, peakOf(timings.PerDevice.Count == 1 ? timings.PerDevice[0].DeviceOrdinal : timings.DeviceOrdinal));

        // Several devices: each on its own link and copy engines; the total is their sum.
        var devices = new List<BottleneckReport>();
        double rate = 0, peak = 0;
        BottleneckReport? slowest = null;
        foreach (var t in timings.PerDevice)
        {
            if (t.Requests <= 0)
                continue;
            var r = AnalyzeOne(t, peakOf(t.DeviceOrdinal));
            devices.Add(r);
            rate += 1 / r.DeviceFloorMicroseconds;
            peak += r.PeakH2DGigabytesPerSecond;
            if (slowest is null || r.DeviceFloorMicroseconds > slowest.DeviceFloorMicroseconds)
                slowest = r;
        }

        double floor = rate > 0 ? 1 / rate : 0;
        double achieved = timings.WallSeconds * 1e6 / timings.Requests;
        Bottleneck b = slowest is null || achieved > HostBoundFactor * floor ? Bottleneck.Host : slowest.Bottleneck;
        return new BottleneckReport(timings, peak, b, floor, achieved, devices);
    }

    private static BottleneckReport AnalyzeOne(StageTimings timings, double peakH2DGigabytesPerSecond)
    {
        double h2d = timings.H2DMicroseconds;
        if (timings.Streams > 1 && peakH2DGigabytesPerSecond > 0 && timings.H2DBytes > 0)
        {
            // Event-timed copies of concurrent streams include waiting for the shared copy engine; the copy's own
            // duration is at most its bytes at the measured peak.
            h2d = Math.Min(h2d, timings.H2DBytes / (peakH2DGigabytesPerSecond * 1e3));
        }

        double copies = Math.Max(h2d, timings.D2HMicroseconds);
        double floor = Math.Max(copies, timings.ComputeMicroseconds);
        double achieved = timings.WallSeconds * 1e6 / timings.Requests;
        Bottleneck b = achieved > HostBoundFactor * floor
            ? Bottleneck.Host
            : copies >= timings.ComputeMicroseconds ? Bottleneck.Pcie : Bottleneck.Compute;
        return new BottleneckReport(timings, peakH2DGigabytesPerSecond, b, floor, achieved);
    }

    /// <summary>One paragraph a person can act on.</summary>
    public string Advice => DeviceAdvice() + Bottleneck switch
    {
        Bottleneck.Pcie when PeakH2DGigabytesPerSecond > 0 && H2DEfficiency < 0.8 =>
            string.Create(CultureInfo.InvariantCulture, $"PCIe-bound, and copies reach only {H2DEfficiency:P0} of the pinned peak: check that inputs are written into the slot's pinned buffers (lease spans) rather than copied from pageable memory."),
        Bottleneck.Pcie =>
            "PCIe-bound: copies take longer than the engine. Send fewer bytes (fp16/uint8 inputs, preprocessing on the GPU); beyond 2–3 streams extra streams add nothing.",
        Bottleneck.Compute =>
            "Compute-bound: the engine's kernels are the floor. Streams already overlap the copies; a faster engine (lower precision, better batch size) is what helps.",
        _ when IsHostBackend =>
            string.Create(CultureInfo.InvariantCulture, $"Host-bound: a request takes {AchievedMicroseconds / DeviceFloorMicroseconds:0.0}x the backend's run time; the rest is scheduling and waiting for a free slot. Add streams (slots) up to the cores available, or batch requests."),
        _ =>
            string.Create(CultureInfo.InvariantCulture, $"Host-bound: a request takes {AchievedMicroseconds / DeviceFloorMicroseconds:0.0}x the device floor, so the GPU waits for the host. Add streams, enable CUDA graphs for static shapes, or batch requests."),
    };

    // Several devices that disagree: name the odd ones (typically one device whose PCIe link saturates).
    private string DeviceAdvice()
    {
        if (Devices.Count < 2)
            return "";
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var d in Devices)
        {
            if (d.Bottleneck != Bottleneck.Pcie || Devices.All(o => o.Bottleneck == Bottleneck.Pcie))
                continue;
            string others = string.Join(", ", Devices.Where(o => o.Bottleneck != Bottleneck.Pcie).Select(o => $"{o.Timings.DeviceOrdinal} ({o.Bottleneck})"));
            string eff = d.PeakH2DGigabytesPerSecond > 0 ? string.Create(c, $", copies at {d.H2DEfficiency:P0} of its pinned peak {d.PeakH2DGigabytesPerSecond:0.0} GB/s") : "";
            sb.Append(c, $"Device {d.Timings.DeviceOrdinal} is PCIe-bound ({d.Timings.Throughput:0} req/s{eff}) while device(s) {others} are not: its host link limits it, and the least-loaded routing sends the other devices more requests. Check that device's PCIe link (width and generation in nvidia-smi -q, a switch shared with another GPU) and that the process runs on its NUMA node (InferenceRunner.GetHostNumaNode). ");
        }

        return sb.ToString();
    }

    /// <summary>A readable multi-line report.</summary>
    public override string ToString()
    {
        var s = StageShares;
        var t = Timings;
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        string on = Devices.Count > 1 ? $" over {Devices.Count} devices" : "";
        sb.AppendLine(c, $"Bottleneck: {Bottleneck} ({t.Requests} requests on {t.Streams} stream(s){on}, {t.Throughput:0.0} req/s)");
        sb.AppendLine(c, $"  stage       mean µs   share");
        string peak = PeakH2DGigabytesPerSecond > 0
            ? string.Create(c, $" ({H2DEfficiency:P0} of pinned peak {PeakH2DGigabytesPerSecond:0.00} GB/s)")
            : "";
        string h2dRate = CopiesQueued
            ? string.Create(c, $"{AchievedH2DGigabytesPerSecond:0.00} GB/s moved over the run (event times include queueing behind other streams)")
            : string.Create(c, $"{t.H2DGigabytesPerSecond:0.00} GB/s");
        sb.AppendLine(c, $"  H2D      {t.H2DMicroseconds,10:0.0}  {s.H2D,6:P0}   {h2dRate}{peak}");
        sb.AppendLine(c, $"  compute  {t.ComputeMicroseconds,10:0.0}  {s.Compute,6:P0}");
        sb.AppendLine(c, $"  D2H      {t.D2HMicroseconds,10:0.0}  {s.D2H,6:P0}   {t.D2HGigabytesPerSecond:0.00} GB/s");
        sb.AppendLine(c, $"  host gap {t.HostGapMicroseconds,10:0.0}");
        sb.AppendLine(c, $"  per request: achieved {AchievedMicroseconds:0.0} µs, {(IsHostBackend ? "backend run" : "device floor")} {DeviceFloorMicroseconds:0.0} µs");
        if (t.Batching is { } b)
        {
            sb.AppendLine(c, $"  dynamic batching: the {t.Requests} runs above are batches: {b.Requests} requests, {b.Rows} rows, mean batch {b.MeanBatchSize:0.0} of max {b.MaxBatchSize} (most often {b.ModeBatchSize}); {(b.Batches > 0 && t.WallSeconds > 0 ? b.Rows / t.WallSeconds : 0):0.0} rows/s");
            sb.AppendLine(c, $"  queue wait p50 {b.QueueWaitP50.TotalMicroseconds:0} µs, p99 {b.QueueWaitP99.TotalMicroseconds:0} µs (MaxQueueDelay {b.MaxQueueDelay.TotalMicroseconds:0} µs); cancelled {b.Cancelled}, rejected {b.Rejected}");
        }

        foreach (var d in Devices)
        {
            var dt = d.Timings;
            string eff = d.PeakH2DGigabytesPerSecond > 0 ? string.Create(c, $", H2D {d.H2DEfficiency:P0} of peak {d.PeakH2DGigabytesPerSecond:0.00} GB/s") : "";
            sb.AppendLine(c, $"  device {dt.DeviceOrdinal}: {d.Bottleneck}, {dt.Requests} requests on {dt.Streams} stream(s), {dt.Throughput:0.0} req/s; H2D {dt.H2DMicroseconds:0.0} µs, compute {dt.ComputeMicroseconds:0.0} µs, D2H {dt.D2HMicroseconds:0.0} µs, gap {dt.HostGapMicroseconds:0.0} µs{eff}");
        }

        sb.Append(Advice);
        return sb.ToString();
    }
}
