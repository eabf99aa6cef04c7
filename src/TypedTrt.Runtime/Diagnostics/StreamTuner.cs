using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>One setting measured by <see cref="StreamTuner"/>.</summary>
/// <param name="Streams">Slots (streams) of the runner.</param>
/// <param name="Batch">The batch size (dynamic batch dimension), or 0 for engines without one.</param>
/// <param name="RequestsPerSecond">Requests per second with <paramref name="Streams"/> concurrent callers.</param>
/// <param name="LatencyP50Microseconds">Median request latency (slot leased → outputs readable).</param>
/// <param name="LatencyP90Microseconds">90th percentile latency.</param>
/// <param name="LatencyP99Microseconds">99th percentile latency.</param>
public sealed record TuneResult(int Streams, int Batch, double RequestsPerSecond, double LatencyP50Microseconds, double LatencyP90Microseconds, double LatencyP99Microseconds)
{
    /// <summary>Items per second (requests × batch; requests when there is no batch dimension).</summary>
    public double ItemsPerSecond => RequestsPerSecond * Math.Max(1, Batch);
}

/// <summary>Options of a <see cref="StreamTuner"/> sweep.</summary>
public sealed class StreamTunerOptions
{
    /// <summary>Stream counts to try. Default 1, 2, 4, 8.</summary>
    public IReadOnlyList<int> Streams { get; init; } = [1, 2, 4, 8];

    /// <summary>Batch sizes to try when the engine's inputs have a dynamic dimension 0 (empty: only the profile's max). Default empty.</summary>
    public IReadOnlyList<int> Batches { get; init; } = [];

    /// <summary>Timed requests per setting. Default 512.</summary>
    public int Requests { get; init; } = 512;

    /// <summary>Untimed warm-up requests per setting. Default 64.</summary>
    public int WarmupRequests { get; init; } = 64;

    /// <summary>Runner options besides the stream count (completion mode, graphs).</summary>
    public CompletionMode Completion { get; init; } = CompletionMode.Polling;

    /// <summary>Settings within this fraction of the best throughput count as equal; the one with fewer streams (then lower p99) wins. Default 0.03.</summary>
    public double Tolerance { get; init; } = 0.03;
}

/// <summary>The outcome of a sweep.</summary>
public sealed class TuneReport
{
    internal TuneReport(IReadOnlyList<TuneResult> results, TuneResult best)
    {
        Results = results;
        Recommended = best;
    }

    /// <summary>Every measured setting.</summary>
    public IReadOnlyList<TuneResult> Results { get; }

    /// <summary>The recommended setting: the fewest streams (then smallest p99) within tolerance of the best items/s.</summary>
    public TuneResult Recommended { get; }

    /// <summary>A table of the results and the recommendation.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("streams  batch      req/s     items/s    p50 µs    p90 µs    p99 µs");
        foreach (var r in Results)
            sb.AppendLine(c, $"{r.Streams,7}  {r.Batch,5}  {r.RequestsPerSecond,9:0.0}  {r.ItemsPerSecond,10:0.0}  {r.LatencyP50Microseconds,8:0.0}  {r.LatencyP90Microseconds,8:0.0}  {r.LatencyP99Microseconds,8:0.0}");
        sb.Append(c, $"Recommended: {Recommended.Streams} stream(s){(Recommended.Batch > 0 ? $", batch {Recommended.Batch}" : "")} ({Recommended.ItemsPerSecond:0.0} items/s, p99 {Recommended.LatencyP99Microseconds:0.0} µs)");
        return sb.ToString();
    }

    /// <summary>An SVG line chart of throughput (items/s) against stream count, one series per batch size.</summary>
    public string ToSvg(string title)
    {
        var series = Results.GroupBy(r => r.Batch)
            .Select(g => new ChartSeries(g.Key > 0 ? $"batch {g.Key}" : "throughput", g.OrderBy(r => r.Streams).Select(r => ((double)r.Streams, r.ItemsPerSecond)).ToList()))
            .ToList();
        return SvgChart.LineChart(title, "streams", "items/s", series);
    }

    /// <summary>Picks the recommendation from measured results (separate for testing).</summary>
    public static TuneResult Recommend(IReadOnlyList<TuneResult> results, double tolerance = 0.03)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
            throw new ArgumentException("No results.", nameof(results));
        double best = results.Max(r => r.ItemsPerSecond);
        return results.Where(r => r.ItemsPerSecond >= best * (1 - tolerance))
            .OrderBy(r => r.Streams).ThenBy(r => r.LatencyP99Microseconds).First();
    }
}

/// <summary>
/// Sweeps stream counts (and, for a dynamic batch dimension, batch sizes) on an engine and recommends a setting.
/// Each setting runs a fresh <see cref="InferenceRunner"/> with as many concurrent callers as streams.
/// </summary>
public static class StreamTuner
{
    /// <summary>Runs the sweep. Inputs keep whatever the slot buffers hold (zeros unless <paramref name="fill"/> writes them).</summary>
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
        IReadOnlyList<int> batches = batched ? (options.Batches.Count > 0 ? options.Batches : [0]) : [0];
        var results = new List<TuneResult>();
        foreach (int batch in batches)
        {
            foreach (int streams in options.Streams)
            {
                await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams, Completion = options.Completion });
                int effectiveBatch = batch;
                void Shape(InferenceLease lease)
                {
                    for (int i = 0; i < sig.Tensors.Count; i++)
                    {
                        var t = sig.Tensors[i];
                        if (t.Mode != Manifest.TensorMode.Input || !t.IsDynamic)
                            continue;
                        long[] max = runner.GetMaxShape(i).ToArray();
                        if (batch > 0)
                            max[0] = Math.Min(batch, max[0]);
                        effectiveBatch = (int)max[0];
                        lease.SetInputShape(i, max);
                    }
                }

                // Every slot once: shapes and optional data.
                var leases = new InferenceLease[streams];
                for (int s = 0; s < streams; s++)
                {
                    leases[s] = await runner.AcquireAsync(cancellationToken).ConfigureAwait(false);
                    Shape(leases[s]);
                    fill?.Invoke(leases[s]);
                }

                foreach (var l in leases)
                    l.Dispose();
                await Drive(runner, streams, options.WarmupRequests, null, Shape, cancellationToken).ConfigureAwait(false);
                var lat = new double[options.Requests];
                long t0 = Stopwatch.GetTimestamp();
                await Drive(runner, streams, options.Requests, lat, Shape, cancellationToken).ConfigureAwait(false);
                double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                Array.Sort(lat);
                results.Add(new TuneResult(streams, batched ? effectiveBatch : 0, options.Requests / sec, Pct(lat, 0.50), Pct(lat, 0.90), Pct(lat, 0.99)));
            }
        }

        return new TuneReport(results, TuneReport.Recommend(results, options.Tolerance));
    }

    private static double Pct(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static async Task Drive(InferenceRunner runner, int callers, int requests, double[]? latencies, Action<InferenceLease> shape, CancellationToken ct)
    {
        int next = -1;
        var tasks = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            tasks[c] = Task.Run(
                async () =>
                {
                    int r;
                    while ((r = Interlocked.Increment(ref next)) < requests)
                    {
                        long t = Stopwatch.GetTimestamp();
                        using var lease = await runner.AcquireAsync(ct).ConfigureAwait(false);
                        shape(lease);
                        await lease.RunAsync(ct).ConfigureAwait(false);
                        if (latencies is not null)
                            latencies[r] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                    }
                },
                ct);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
