using System.Diagnostics;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>How <see cref="LoadMeasurement.MeasureAsync"/> measures: perf_analyzer's method of repeated windows.</summary>
public sealed class MeasurementOptions
{
    /// <summary>Length of one measurement window. Default 1 s.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Fewest requests a window must complete (a window lasts until both this and <see cref="Window"/> are reached). Default 64.</summary>
    public int MinRequestsPerWindow { get; init; } = 64;

    /// <summary>Untimed warm-up before the first window. Default 200 ms.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Windows to try before giving up on stability. Default 10.</summary>
    public int MaxWindows { get; init; } = 10;

    /// <summary>Consecutive windows that must agree. Default 3.</summary>
    public int StableWindows { get; init; } = 3;

    /// <summary>How closely they must agree: throughput and mean latency within this fraction. Default 0.05.</summary>
    public double Tolerance { get; init; } = 0.05;
}

/// <summary>One measured load point: the last <see cref="MeasurementOptions.StableWindows"/> windows combined.</summary>
/// <param name="RequestsPerSecond">Completed requests per second.</param>
/// <param name="LatencyP50Microseconds">Median request latency.</param>
/// <param name="LatencyP90Microseconds">90th percentile.</param>
/// <param name="LatencyP99Microseconds">99th percentile.</param>
/// <param name="MeanLatencyMicroseconds">Mean latency.</param>
/// <param name="Windows">Windows measured.</param>
/// <param name="Stable">Whether the last windows agreed within the tolerance; if not, the numbers are the last windows' and should not be trusted.</param>
/// <param name="Spread">Largest relative difference of throughput among the windows reported (max/min - 1).</param>
public sealed record Measurement(double RequestsPerSecond, double LatencyP50Microseconds, double LatencyP90Microseconds, double LatencyP99Microseconds, double MeanLatencyMicroseconds, int Windows, bool Stable, double Spread);

/// <summary>
/// Closed-loop load like NVIDIA's perf_analyzer: N concurrent callers each issue one request after another; the run is
/// cut into windows, and measuring stops when the last three windows agree on throughput and mean latency within 5%
/// (or after <see cref="MeasurementOptions.MaxWindows"/>, reported as unstable). Latencies go into a log histogram
/// (~4% buckets), so measuring allocates nothing per request.
/// </summary>
public static class LoadMeasurement
{
    /// <summary>Runs <paramref name="callers"/> concurrent loops of <paramref name="request"/> and measures them.</summary>
    /// <param name="callers">Concurrent callers (the load's concurrency).</param>
    /// <param name="request">One request; gets the caller's index (0..callers-1).</param>
    /// <param name="options">Windows and stability.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    public static async Task<Measurement> MeasureAsync(int callers, Func<int, ValueTask> request, MeasurementOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callers, 1);
        ArgumentNullException.ThrowIfNull(request);
        options ??= new MeasurementOptions();
        var state = new LoadState();
        var loops = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            int caller = c;
            loops[c] = Task.Run(
                async () =>
                {
                    while (!state.Stop)
                    {
                        long t = Stopwatch.GetTimestamp();
                        await request(caller).ConfigureAwait(false);
                        state.Current.Record(Stopwatch.GetTimestamp() - t, caller);
                    }
                },
                CancellationToken.None);
        }

        try
        {
            await Task.Delay(options.Warmup, cancellationToken).ConfigureAwait(false);
            var windows = new List<LatencyHistogram>();
            var rates = new List<double>();
            bool stable = false;
            for (int w = 0; w < options.MaxWindows && !stable; w++)
            {
                var h = new LatencyHistogram();
                long start = Stopwatch.GetTimestamp();
                state.Current = h;
                do
                {
                    await Task.Delay(options.Window / 10, cancellationToken).ConfigureAwait(false);
                    if (loops.Any(t => t.IsFaulted))
                        break;
                }
                while (Stopwatch.GetElapsedTime(start) < options.Window || h.Count < options.MinRequestsPerWindow);
                state.Current = new LatencyHistogram(); // stop counting into h
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (loops.FirstOrDefault(t => t.IsFaulted) is { } failed)
                    await failed.ConfigureAwait(false); // rethrows the request's error
                windows.Add(h);
                rates.Add(h.Count / seconds);
                stable = Agree(rates, windows, options);
            }

            int n = Math.Min(options.StableWindows, windows.Count);
            var last = windows.Skip(windows.Count - n).ToList();
            var lastRates = rates.Skip(rates.Count - n).ToList();
            var all = LatencyHistogram.Merge(last);
            double spread = lastRates.Min() > 0 ? lastRates.Max() / lastRates.Min() - 1 : double.PositiveInfinity;
            return new Measurement(lastRates.Average(), all.Percentile(0.50), all.Percentile(0.90), all.Percentile(0.99), all.Mean, windows.Count, stable, spread);
        }
        finally
        {
            state.Stop = true;
            try
            {
                await Task.WhenAll(loops).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private static bool Agree(List<double> rates, List<LatencyHistogram> windows, MeasurementOptions o)
    {
        int n = o.StableWindows;
        if (rates.Count < n)
            return false;
        var r = rates.Skip(rates.Count - n).ToArray();
        var m = windows.Skip(windows.Count - n).Select(h => h.Mean).ToArray();
        return r.Min() > 0 && r.Max() <= r.Min() * (1 + o.Tolerance) && m.Min() > 0 && m.Max() <= m.Min() * (1 + o.Tolerance);
    }

    private sealed class LoadState
    {
        public volatile bool Stop;
        private LatencyHistogram _current = new();

        public LatencyHistogram Current
        {
            get => Volatile.Read(ref _current);
            set => Volatile.Write(ref _current, value);
        }
    }
}

/// <summary>A thread-safe log histogram of latencies (16 buckets per power of two of microseconds).</summary>
internal sealed class LatencyHistogram
{
    private const int PerOctave = 16, Buckets = PerOctave * 40;
    private const int Stripes = 16; // callers record into stripe caller % 16: no cache line shared by all callers
    private const int CountIndex = Buckets + 1, SumIndex = Buckets + 2;
    private static readonly double UsPerTick = 1e6 / Stopwatch.Frequency;

    // Per stripe: the bucket counts, then the count and the tick sum (one array each, so stripes do not share lines).
    private readonly long[][] _stripes = new long[Stripes][];

    public LatencyHistogram()
    {
        for (int i = 0; i < Stripes; i++)
            _stripes[i] = new long[Buckets + 3];
    }

    public long Count
    {
        get
        {
            long n = 0;
            foreach (var s in _stripes)
                n += Volatile.Read(ref s[CountIndex]);
            return n;
        }
    }

    public double Mean
    {
        get
        {
            long n = 0, sum = 0;
            foreach (var s in _stripes)
            {
                n += Volatile.Read(ref s[CountIndex]);
                sum += Volatile.Read(ref s[SumIndex]);
            }

            return n > 0 ? sum * UsPerTick / n : 0;
        }
    }

    /// <summary>Records one latency; <paramref name="stripe"/> (any integer, e.g. the caller's index) spreads concurrent callers over separate counters.</summary>
    public void Record(long ticks, int stripe = 0)
    {
        double us = ticks * UsPerTick;
        int b = us <= 1 ? 0 : Math.Min(Buckets, 1 + (int)(Math.Log2(us) * PerOctave));
        var s = _stripes[(stripe & int.MaxValue) % Stripes];
        Interlocked.Increment(ref s[b]);
        Interlocked.Add(ref s[SumIndex], ticks);
        Interlocked.Increment(ref s[CountIndex]);
    }

    public double Percentile(double p)
    {
        long total = Count;
        if (total == 0)
            return 0;
        long rank = (long)Math.Ceiling(p * total), seen = 0;
        for (int b = 0; b <= Buckets; b++)
        {
            foreach (var s in _stripes)
                seen += Volatile.Read(ref s[b]);
            if (seen >= rank)
                return b == 0 ? 1 : Math.Pow(2, (b - 0.5) / PerOctave); // bucket middle
        }

        return Math.Pow(2, (double)Buckets / PerOctave);
    }

    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> parts)
    {
        var h = new LatencyHistogram();
        var into = h._stripes[0];
        foreach (var p in parts)
        {
            foreach (var s in p._stripes)
            {
                for (int b = 0; b < into.Length; b++)
                    into[b] += s[b];
            }
        }

        return h;
    }
}
