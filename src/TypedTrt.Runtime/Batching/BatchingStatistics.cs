using System.Globalization;
using System.Text;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// A snapshot of a batching runner's statistics (<see cref="InferenceRunner.GetBatchingStatistics"/>): batches formed,
/// rows and requests in them, the histogram of batch sizes and the time requests waited in the queue.
/// </summary>
public sealed class BatchingStatistics
{
    private readonly long[] _sizes;

    internal BatchingStatistics(int maxBatchSize, TimeSpan maxQueueDelay, long batches, long rows, long requests, long cancelled, long rejected, long[] sizes, TimeSpan p50, TimeSpan p99, TimeSpan max, TimeSpan window)
    {
        MaxBatchSize = maxBatchSize;
        MaxQueueDelay = maxQueueDelay;
        Batches = batches;
        Rows = rows;
        Requests = requests;
        Cancelled = cancelled;
        Rejected = rejected;
        _sizes = sizes;
        QueueWaitP50 = p50;
        QueueWaitP99 = p99;
        QueueWaitMax = max;
        Window = window;
    }

    /// <summary>The runner's <see cref="DynamicBatchingOptions.MaxBatchSize"/>.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The runner's <see cref="DynamicBatchingOptions.MaxQueueDelay"/>.</summary>
    public TimeSpan MaxQueueDelay { get; }

    /// <summary>Batches started (one enqueue each).</summary>
    public long Batches { get; }

    /// <summary>Rows in those batches.</summary>
    public long Rows { get; }

    /// <summary>Requests in those batches.</summary>
    public long Requests { get; }

    /// <summary>Requests cancelled while they waited (they never ran).</summary>
    public long Cancelled { get; }

    /// <summary>Requests rejected because the queue was full (<see cref="BatchQueueFullException"/>).</summary>
    public long Rejected { get; }

    /// <summary>Mean rows per batch (0 before the first batch).</summary>
    public double MeanBatchSize => Batches > 0 ? (double)Rows / Batches : 0;

    /// <summary>The most common batch size (the largest of equally common ones; 0 before the first batch).</summary>
    public int ModeBatchSize
    {
        get
        {
            int best = 0;
            for (int s = 1; s < _sizes.Length; s++)
            {
                if (_sizes[s] > 0 && _sizes[s] >= _sizes[best])
                    best = s;
            }

            return best;
        }
    }

    /// <summary>Median time from queueing to the start of the request's batch (histogram estimate, within ~5%).</summary>
    public TimeSpan QueueWaitP50 { get; }

    /// <summary>99th percentile queue wait (histogram estimate, within ~5%).</summary>
    public TimeSpan QueueWaitP99 { get; }

    /// <summary>The longest queue wait.</summary>
    public TimeSpan QueueWaitMax { get; }

    /// <summary>Time since the statistics started (runner creation or the last reset).</summary>
    public TimeSpan Window { get; }

    /// <summary>Batches of each size: element <c>s</c> counts batches of <c>s</c> rows (element 0 is always 0).</summary>
    public IReadOnlyList<long> BatchSizeCounts => _sizes;

    /// <summary>Batches of <paramref name="rows"/> rows.</summary>
    public long CountOf(int rows) => (uint)rows < (uint)_sizes.Length ? _sizes[rows] : 0;

    /// <summary>A readable summary and histogram (sizes that occurred, with a bar each).</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Dynamic batching (max {MaxBatchSize} rows, max queue delay {MaxQueueDelay.TotalMicroseconds:0} µs): {Batches} batches, {Rows} rows, {Requests} requests, mean batch {MeanBatchSize:0.0} rows");
        sb.AppendLine(c, $"  queue wait p50 {QueueWaitP50.TotalMicroseconds:0} µs, p99 {QueueWaitP99.TotalMicroseconds:0} µs, max {QueueWaitMax.TotalMicroseconds:0} µs; cancelled {Cancelled}, rejected (queue full) {Rejected}");
        long peak = 0;
        foreach (long n in _sizes)
            peak = Math.Max(peak, n);
        sb.Append("  batch size histogram:");
        for (int s = 1; s < _sizes.Length; s++)
        {
            if (_sizes[s] == 0)
                continue;
            int bar = peak > 0 ? (int)Math.Ceiling(40.0 * _sizes[s] / peak) : 0;
            sb.AppendLine();
            sb.Append(c, $"  {s,5} rows {_sizes[s],9} {new string('#', bar)}");
        }

        if (Batches == 0)
            sb.Append(" (no batches yet)");
        return sb.ToString();
    }
}

/// <summary>Collects the statistics; every call runs under the batcher's lock.</summary>
internal sealed class BatchStatisticsRecorder
{
    // Queue waits in log-spaced buckets: 16 per power of two of microseconds (bucket width ~4.4%), up to ~2^32 µs.
    private const int PerOctave = 16, Octaves = 32;
    private readonly long[] _waits = new long[PerOctave * Octaves + 1];
    private readonly long[] _sizes;
    private readonly int _maxBatch;
    private readonly TimeSpan _delay;
    private long _batches, _rows, _requests, _cancelled, _rejected, _start;
    private double _maxWaitUs;

    public BatchStatisticsRecorder(int maxBatch, TimeSpan delay)
    {
        _maxBatch = maxBatch;
        _delay = delay;
        _sizes = new long[maxBatch + 1];
        _start = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    public void RecordBatch(int rows, int requests)
    {
        _batches++;
        _rows += rows;
        _requests += requests;
        _sizes[Math.Min(rows, _maxBatch)]++;
    }

    public void RecordWait(double microseconds)
    {
        _waits[Bucket(microseconds)]++;
        if (microseconds > _maxWaitUs)
            _maxWaitUs = microseconds;
    }

    public void RecordCancelled() => _cancelled++;

    public void RecordRejected() => _rejected++;

    internal static int Bucket(double us)
    {
        if (!(us > 1))
            return 0;
        int b = 1 + (int)(Math.Log2(us) * PerOctave);
        return Math.Min(b, PerOctave * Octaves);
    }

    // Upper edge of a bucket in microseconds (the estimate a percentile reports).
    internal static double BucketUpper(int b) => b == 0 ? 1 : Math.Pow(2, (double)b / PerOctave);

    private TimeSpan Percentile(long total, double p)
    {
        if (total == 0)
            return TimeSpan.Zero;
        long rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        for (int b = 0; b < _waits.Length; b++)
        {
            seen += _waits[b];
            if (seen >= rank)
                return TimeSpan.FromMicroseconds(Math.Min(BucketUpper(b), _maxWaitUs));
        }

        return TimeSpan.FromMicroseconds(_maxWaitUs);
    }

    public BatchingStatistics Snapshot()
    {
        long total = 0;
        foreach (long n in _waits)
            total += n;
        return new BatchingStatistics(
            _maxBatch, _delay, _batches, _rows, _requests, _cancelled, _rejected, (long[])_sizes.Clone(),
            Percentile(total, 0.50), Percentile(total, 0.99), TimeSpan.FromMicroseconds(_maxWaitUs),
            System.Diagnostics.Stopwatch.GetElapsedTime(_start));
    }

    public void Reset()
    {
        Array.Clear(_waits);
        Array.Clear(_sizes);
        _batches = _rows = _requests = _cancelled = _rejected = 0;
        _maxWaitUs = 0;
        _start = System.Diagnostics.Stopwatch.GetTimestamp();
    }
}
