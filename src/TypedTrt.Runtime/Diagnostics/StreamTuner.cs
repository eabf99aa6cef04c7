using System.Globalization;
using System.Text;
using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>One setting measured by <see cref="StreamTuner"/>.</summary>
/// <param name="Streams">Slots (streams) of the runner.</param>
/// <param name="Batch">Rows per request (the dynamic batch dimension; 1 for dynamic-batching points), or 0 for engines without one.</param>
/// <param name="RequestsPerSecond">Requests per second under the setting's concurrency.</param>
/// <param name="LatencyP50Microseconds">Median request latency (request issued → outputs readable).</param>
/// <param name="LatencyP90Microseconds">90th percentile latency.</param>
/// <param name="LatencyP99Microseconds">99th percentile latency.</param>
public sealed record TuneResult(int Streams, int Batch, double RequestsPerSecond, double LatencyP50Microseconds, double LatencyP90Microseconds, double LatencyP99Microseconds)
{
    /// <summary>Items per second (requests × rows per request; requests when there is no batch dimension).</summary>
    public double ItemsPerSecond => RequestsPerSecond * Math.Max(1, Batch);

    /// <summary>The dynamic batcher's MaxBatchSize, or 0 without dynamic batching.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>The dynamic batcher's MaxQueueDelay (zero without dynamic batching).</summary>
    public TimeSpan QueueDelay { get; init; }

    /// <summary>Whether CUDA graph replay was on.</summary>
    public bool CudaGraphs { get; init; }

    /// <summary>Concurrent callers of the measurement.</summary>
    public int Concurrency { get; init; }

    /// <summary>Whether the measurement windows agreed (see <see cref="MeasurementOptions"/>); unstable points are marked and never recommended when a stable one exists.</summary>
    public bool Stable { get; init; } = true;

    /// <summary>Measurement windows used.</summary>
    public int Windows { get; init; }

    /// <summary>Mean rows per batch the batcher formed (0 without dynamic batching).</summary>
    public double MeanBatchSize { get; init; }

    /// <summary>Short text of the setting, e.g. <c>S=2 max-batch 16 delay 100µs</c>.</summary>
    public string Setting => string.Create(CultureInfo.InvariantCulture,
        $"S={Streams}{(Batch > 0 && MaxBatchSize == 0 ? $" batch {Batch}" : "")}{(MaxBatchSize > 0 ? $" max-batch {MaxBatchSize} delay {QueueDelay.TotalMicroseconds:0}µs" : "")}{(CudaGraphs ? " graphs" : "")}");
}

/// <summary>Options of a <see cref="StreamTuner"/> sweep.</summary>
public sealed class StreamTunerOptions
{
    /// <summary>Stream counts to try. Default 1, 2, 4, 8.</summary>
    public IReadOnlyList<int> Streams { get; init; } = [1, 2, 4, 8];

    /// <summary>Rows per request to try without dynamic batching when the engine's inputs have a dynamic dimension 0 (empty: only the profile's max). Default empty.</summary>
    public IReadOnlyList<int> Batches { get; init; } = [];

    /// <summary>
    /// Dynamic batching MaxBatchSize values to try (single-row requests, <see cref="Concurrency"/> callers); empty: no
    /// dynamic batching points. Needs an engine that qualifies (<see cref="DynamicBatchingOptions"/>). Default empty.
    /// </summary>
    public IReadOnlyList<int> MaxBatchSizes { get; init; } = [];

    /// <summary>Dynamic batching MaxQueueDelay values to try with each MaxBatchSize. Default 100 µs and 1 ms.</summary>
    public IReadOnlyList<TimeSpan> QueueDelays { get; init; } = [TimeSpan.FromMicroseconds(100), TimeSpan.FromMilliseconds(1)];

    /// <summary>CUDA graph settings to try (graphs apply to static-shape device engines only; other points run once, without). Default: off only.</summary>
    public IReadOnlyList<bool> CudaGraphs { get; init; } = [false];

    /// <summary>Concurrent callers; null (default): the stream count, and streams × MaxBatchSize for dynamic batching points.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Latency budget: only settings whose p99 is within it are recommended. Null: no budget.</summary>
    public TimeSpan? P99Budget { get; init; }

    /// <summary>Fewest requests per measurement window. Default 512.</summary>
    public int Requests { get; init; } = 512;

    /// <summary>Measurement windows and stability (perf_analyzer's method). Default: 1 s windows until three agree within 5%, at most 10.</summary>
    public MeasurementOptions Measurement { get; init; } = new();

    /// <summary>Completion mode of the runners.</summary>
    public CompletionMode Completion { get; init; } = CompletionMode.Polling;

    /// <summary>Settings within this fraction of the best throughput count as equal; the cheapest wins (fewer streams, no or smaller batching, shorter delay, no graphs, then lower p99). Default 0.03.</summary>
    public double Tolerance { get; init; } = 0.03;
}

/// <summary>The outcome of a sweep.</summary>
public sealed class TuneReport
{
    internal TuneReport(IReadOnlyList<TuneResult> results, TuneResult best, TimeSpan? budget)
    {
        Results = results;
        Recommended = best;
        P99Budget = budget;
        ParetoFront = Pareto(results);
    }

    /// <summary>Every measured setting.</summary>
    public IReadOnlyList<TuneResult> Results { get; }

    /// <summary>The recommended setting: the cheapest within tolerance of the best items/s among stable settings inside the budget.</summary>
    public TuneResult Recommended { get; }

    /// <summary>The budget the sweep was given.</summary>
    public TimeSpan? P99Budget { get; }

    /// <summary>Whether the recommendation meets <see cref="P99Budget"/> (true without a budget).</summary>
    public bool MeetsBudget => P99Budget is not { } b || Recommended.LatencyP99Microseconds <= b.TotalMicroseconds;

    /// <summary>The settings no other beats on both throughput and p99, by increasing p99.</summary>
    public IReadOnlyList<TuneResult> ParetoFront { get; }

    /// <summary>The Pareto front of a set of results: by increasing p99, each with more items/s than every point of lower p99.</summary>
    public static IReadOnlyList<TuneResult> Pareto(IReadOnlyList<TuneResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var front = new List<TuneResult>();
        double best = double.NegativeInfinity;
        foreach (var r in results.OrderBy(r => r.LatencyP99Microseconds).ThenByDescending(r => r.ItemsPerSecond))
        {
            if (r.ItemsPerSecond > best)
            {
                front.Add(r);
                best = r.ItemsPerSecond;
            }
        }

        return front;
    }

    /// <summary>A table of the results (* marks the Pareto front, ~ an unstable measurement), the front and the recommendation.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("   streams  batch  max-batch  delay µs  graphs  callers      req/s     items/s    p50 µs    p90 µs    p99 µs  mean batch  windows");
        foreach (var r in Results)
        {
            string mark = (ParetoFront.Contains(r) ? "*" : " ") + (r.Stable ? " " : "~");
            sb.AppendLine(c, $"{mark}{r.Streams,7}  {r.Batch,5}  {r.MaxBatchSize,9}  {(r.MaxBatchSize > 0 ? r.QueueDelay.TotalMicroseconds : 0),8:0}  {(r.CudaGraphs ? "on" : "off"),6}  {r.Concurrency,7}  {r.RequestsPerSecond,9:0.0}  {r.ItemsPerSecond,10:0.0}  {r.LatencyP50Microseconds,8:0.0}  {r.LatencyP90Microseconds,8:0.0}  {r.LatencyP99Microseconds,8:0.0}  {r.MeanBatchSize,10:0.0}  {r.Windows,7}");
        }

        int unstable = Results.Count(r => !r.Stable);
        if (unstable > 0)
            sb.AppendLine(c, $"~ {unstable} setting(s) never gave three consecutive windows within 5%; their numbers are the last windows' and are not trustworthy (a busy machine?).");
        sb.AppendLine(c, $"Pareto front (items/s vs p99): {string.Join("  →  ", ParetoFront.Select(r => string.Create(c, $"{r.Setting}: {r.ItemsPerSecond:0} items/s @ p99 {r.LatencyP99Microseconds:0} µs")))}");
        string budget = P99Budget is { } b ? string.Create(c, $" within the p99 budget of {b.TotalMicroseconds:0} µs") : "";
        if (!MeetsBudget)
            sb.Append(c, $"No setting meets the p99 budget of {P99Budget!.Value.TotalMicroseconds:0} µs; the lowest p99 is: ");
        else
            sb.Append(c, $"Recommended{budget}: ");
        var rec = Recommended;
        sb.Append(c, $"{rec.Setting} ({rec.ItemsPerSecond:0.0} items/s, p99 {rec.LatencyP99Microseconds:0.0} µs)");
        return sb.ToString();
    }

    /// <summary>An SVG chart of the sweep: items/s against p99 for every setting, the Pareto front as a line, the recommendation highlighted.</summary>
    public string ToSvg(string title)
    {
        var points = Results.Select(r => (r.LatencyP99Microseconds, r.ItemsPerSecond, r.Setting)).ToList();
        var front = ParetoFront.Select(r => (r.LatencyP99Microseconds, r.ItemsPerSecond)).ToList();
        int idx = Results.ToList().IndexOf(Recommended);
        return SvgChart.ScatterChart(title, "p99 latency (µs)", "items/s", points, front, idx);
    }

    /// <summary>Picks the recommendation from measured results without a budget (separate for testing).</summary>
    public static TuneResult Recommend(IReadOnlyList<TuneResult> results, double tolerance = 0.03) => Recommend(results, tolerance, null);

    /// <summary>
    /// Picks the recommendation: among stable results (all, if none is stable) within <paramref name="p99Budget"/>, the
    /// cheapest within <paramref name="tolerance"/> of the best items/s: fewest streams, then no or the smallest dynamic
    /// batch, then the shortest queue delay, then graphs off, then lowest p99. If nothing meets the budget, the result
    /// with the lowest p99.
    /// </summary>
    public static TuneResult Recommend(IReadOnlyList<TuneResult> results, double tolerance, TimeSpan? p99Budget)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
            throw new ArgumentException("No results.", nameof(results));
        var pool = results.Any(r => r.Stable) ? results.Where(r => r.Stable).ToList() : results.ToList();
        if (p99Budget is { } budget)
        {
            var within = pool.Where(r => r.LatencyP99Microseconds <= budget.TotalMicroseconds).ToList();
            if (within.Count == 0)
                return pool.OrderBy(r => r.LatencyP99Microseconds).First();
            pool = within;
        }

        double best = pool.Max(r => r.ItemsPerSecond);
        return pool.Where(r => r.ItemsPerSecond >= best * (1 - tolerance))
            .OrderBy(r => r.Streams).ThenBy(r => r.MaxBatchSize).ThenBy(r => r.QueueDelay).ThenBy(r => r.CudaGraphs).ThenBy(r => r.LatencyP99Microseconds).First();
    }
}

/// <summary>
/// Sweeps streams × rows per request × dynamic batching (MaxBatchSize × MaxQueueDelay) × CUDA graphs on an engine,
/// measuring each setting like perf_analyzer (<see cref="LoadMeasurement"/>), and recommends the cheapest setting that
/// meets an optional p99 budget. Each setting runs a fresh <see cref="InferenceRunner"/> under closed-loop load.
/// </summary>
public static class StreamTuner
{
    /// <summary>Runs the sweep. Inputs keep whatever the buffers hold (zeros unless <paramref name="fill"/> writes them; dynamic batching points are not filled).</summary>
    /// <param name="engine">The engine (not disposed).</param>
    /// <param name="options">The sweep.</param>
    /// <param name="fill">Optional: writes a leased slot's inputs once per slot (after the shapes are set).</param>
    /// <param name="cancellationToken">Stops the sweep.</param>
    public static async Task<TuneReport> RunAsync(IInferenceEngine engine, StreamTunerOptions? options = null, Action<InferenceLease>? fill = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        options ??= new StreamTunerOptions();
        var sig = engine.Signature;
        bool batched = sig.Tensors.Any(t => t.Mode == Manifest.TensorMode.Input && t.IsDynamic);
        bool graphsPossible = !batched && engine.Placement == BufferPlacement.Device;
        IReadOnlyList<int> batches = batched ? (options.Batches.Count > 0 ? options.Batches : [0]) : [0];
        var measure = new MeasurementOptions
        {
            Window = options.Measurement.Window,
            Warmup = options.Measurement.Warmup,
            MaxWindows = options.Measurement.MaxWindows,
            StableWindows = options.Measurement.StableWindows,
            Tolerance = options.Measurement.Tolerance,
            MinRequestsPerWindow = options.Requests,
        };
        var results = new List<TuneResult>();
        foreach (bool graphs in options.CudaGraphs.Distinct())
        {
            if (graphs && !graphsPossible)
                continue;
            foreach (int streams in options.Streams)
            {
                foreach (int batch in batches)
                    results.Add(await MeasurePlainAsync(engine, streams, batch, batched, graphs, options, measure, fill, cancellationToken).ConfigureAwait(false));
                if (graphs || !batched)
                    continue;
                foreach (int maxBatch in options.MaxBatchSizes)
                {
                    foreach (var delay in options.QueueDelays)
                        results.Add(await MeasureBatchingAsync(engine, streams, maxBatch, delay, options, measure, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        return new TuneReport(results, TuneReport.Recommend(results, options.Tolerance, options.P99Budget), options.P99Budget);
    }

    private static async Task<TuneResult> MeasurePlainAsync(IInferenceEngine engine, int streams, int batch, bool batched, bool graphs, StreamTunerOptions options, MeasurementOptions measure, Action<InferenceLease>? fill, CancellationToken ct)
    {
        var sig = engine.Signature;
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams, Completion = options.Completion, UseCudaGraphs = graphs });
        var shapes = new long[sig.Tensors.Count][];
        int effectiveBatch = 0;
        for (int i = 0; i < sig.Tensors.Count; i++)
        {
            var t = sig.Tensors[i];
            if (t.Mode != Manifest.TensorMode.Input || !t.IsDynamic)
                continue;
            long[] max = runner.GetMaxShape(i).ToArray();
            if (batch > 0 && max.Length > 0)
                max[0] = Math.Min(batch, max[0]);
            effectiveBatch = max.Length > 0 ? (int)max[0] : 1;
            shapes[i] = max;
        }

        void Shape(InferenceLease lease)
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                if (shapes[i] is { } s)
                    lease.SetInputShape(i, s);
            }
        }

        // Every slot once: shapes and optional data.
        var leases = new InferenceLease[streams];
        for (int s = 0; s < streams; s++)
        {
            leases[s] = await runner.AcquireAsync(ct).ConfigureAwait(false);
            Shape(leases[s]);
            fill?.Invoke(leases[s]);
        }

        foreach (var l in leases)
            l.Dispose();
        int callers = options.Concurrency ?? streams;
        var m = await LoadMeasurement.MeasureAsync(
            callers,
            async _ =>
            {
                using var lease = await runner.AcquireAsync(ct).ConfigureAwait(false);
                Shape(lease);
                await lease.RunAsync(ct).ConfigureAwait(false);
            },
            measure,
            ct).ConfigureAwait(false);
        return new TuneResult(streams, batched ? effectiveBatch : 0, m.RequestsPerSecond, m.LatencyP50Microseconds, m.LatencyP90Microseconds, m.LatencyP99Microseconds)
        {
            CudaGraphs = graphs,
            Concurrency = callers,
            Stable = m.Stable,
            Windows = m.Windows,
        };
    }

    private static async Task<TuneResult> MeasureBatchingAsync(IInferenceEngine engine, int streams, int maxBatch, TimeSpan delay, StreamTunerOptions options, MeasurementOptions measure, CancellationToken ct)
    {
        var sig = engine.Signature;
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = streams,
            Completion = options.Completion,
            Batching = new DynamicBatchingOptions { MaxBatchSize = maxBatch, MaxQueueDelay = delay },
        });
        var shapes = new long[sig.Tensors.Count][];
        for (int i = 0; i < sig.Tensors.Count; i++)
        {
            if (sig.Tensors[i].Mode != Manifest.TensorMode.Input)
                continue;
            shapes[i] = runner.GetMaxShape(i).ToArray();
            shapes[i][0] = 1; // single-row requests: the serving case
        }

        int callers = options.Concurrency ?? streams * maxBatch;
        var m = await LoadMeasurement.MeasureAsync(
            callers,
            async _ =>
            {
                using var lease = await runner.AcquireAsync(ct).ConfigureAwait(false);
                for (int i = 0; i < shapes.Length; i++)
                {
                    if (shapes[i] is { } s)
                        lease.SetInputShape(i, s);
                }

                await lease.RunAsync(ct).ConfigureAwait(false);
            },
            measure,
            ct).ConfigureAwait(false);
        var stats = runner.GetBatchingStatistics()!;
        return new TuneResult(streams, 1, m.RequestsPerSecond, m.LatencyP50Microseconds, m.LatencyP90Microseconds, m.LatencyP99Microseconds)
        {
            MaxBatchSize = maxBatch,
            QueueDelay = delay,
            Concurrency = callers,
            Stable = m.Stable,
            Windows = m.Windows,
            MeanBatchSize = stats.MeanBatchSize,
        };
    }
}
