using TypedTrt.Runtime.Diagnostics;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>The tuner's measurement, search, Pareto front and budgeted recommendation.</summary>
public sealed class TunerTests
{
    private static TuneResult R(int streams, double rps, double p99, int maxBatch = 0, double delayUs = 0, bool stable = true) =>
        new(streams, maxBatch > 0 ? 1 : 0, rps, p99 / 2, p99 * 0.9, p99) { MaxBatchSize = maxBatch, QueueDelay = TimeSpan.FromMicroseconds(delayUs), Stable = stable };

    [Fact]
    public void Pareto_front_keeps_exactly_the_points_nothing_beats_on_both_axes()
    {
        var results = new[] { R(1, 100, 50), R(2, 300, 80), R(2, 250, 90), R(4, 400, 200), R(8, 380, 300), R(4, 90, 40) };
        var front = TuneReport.Pareto(results);
        Assert.Equal(new[] { results[5], results[0], results[1], results[3] }, front);
    }

    [Fact]
    public void The_recommendation_is_the_cheapest_setting_within_tolerance_inside_the_budget()
    {
        var results = new[]
        {
            R(1, 1000, 100),
            R(2, 4000, 900, maxBatch: 16, delayUs: 1000),
            R(2, 3980, 500, maxBatch: 16, delayUs: 100),
            R(2, 3990, 700, maxBatch: 32, delayUs: 100),
            R(4, 4100, 2500, maxBatch: 32, delayUs: 1000),
            R(1, 9000, 50, stable: false),
        };
        // Unstable points are not trusted; within 3% of 4100 the cheapest: 2 streams, max-batch 16, 100 µs delay.
        var rec = TuneReport.Recommend(results, 0.03, null);
        Assert.Equal((2, 16, TimeSpan.FromMicroseconds(100)), (rec.Streams, rec.MaxBatchSize, rec.QueueDelay));
        // A 600 µs budget leaves 1 stream (100 µs) and S=2 mb16 d100 (500 µs): the best of those.
        rec = TuneReport.Recommend(results, 0.03, TimeSpan.FromMicroseconds(600));
        Assert.Equal(500, rec.LatencyP99Microseconds);
        // Nothing meets 10 µs: the lowest p99 among the stable ones.
        rec = TuneReport.Recommend(results, 0.03, TimeSpan.FromMicroseconds(10));
        Assert.Equal(100, rec.LatencyP99Microseconds);
    }

    [Fact]
    public async Task Measurement_repeats_windows_until_three_agree_and_reports_latency()
    {
        var m = await LoadMeasurement.MeasureAsync(
            4,
            async _ => await Task.Delay(1, TestContext.Current.CancellationToken),
            new MeasurementOptions { Window = TimeSpan.FromMilliseconds(100), Warmup = TimeSpan.FromMilliseconds(20), MinRequestsPerWindow = 10, MaxWindows = 8, Tolerance = 0.5 },
            TestContext.Current.CancellationToken);
        Assert.InRange(m.Windows, 3, 8);
        Assert.True(m.RequestsPerSecond > 0);
        Assert.True(m.LatencyP50Microseconds >= 900, $"p50 {m.LatencyP50Microseconds} µs for a 1 ms delay");
        Assert.True(m.LatencyP99Microseconds >= m.LatencyP50Microseconds);
        if (m.Stable)
            Assert.True(m.Spread <= 0.5);

        // A request that fails stops the measurement with its error.
        await Assert.ThrowsAsync<InvalidOperationException>(() => LoadMeasurement.MeasureAsync(
            2, _ => ValueTask.FromException(new InvalidOperationException("boom")),
            new MeasurementOptions { Window = TimeSpan.FromMilliseconds(50), Warmup = TimeSpan.Zero }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_sweep_covers_streams_and_dynamic_batching_and_charts_the_front()
    {
        var engine = new RowEngine { Record = false };
        var report = await StreamTuner.RunAsync(engine, new StreamTunerOptions
        {
            Streams = [1, 2],
            MaxBatchSizes = [8],
            QueueDelays = [TimeSpan.FromMicroseconds(200)],
            Requests = 20,
            Measurement = new MeasurementOptions { Window = TimeSpan.FromMilliseconds(60), Warmup = TimeSpan.FromMilliseconds(20), MaxWindows = 4 },
            P99Budget = TimeSpan.FromSeconds(10),
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(4, report.Results.Count);
        Assert.Equal(2, report.Results.Count(r => r.MaxBatchSize == 8));
        Assert.All(report.Results.Where(r => r.MaxBatchSize == 8), r => Assert.Equal(r.Streams * 8, r.Concurrency)); // streams × MaxBatchSize callers
        Assert.All(report.Results.Where(r => r.MaxBatchSize == 8), r => Assert.True(r.MeanBatchSize >= 1));
        Assert.Contains(report.Recommended, report.Results);
        Assert.True(report.MeetsBudget);
        Assert.NotEmpty(report.ParetoFront);
        string text = report.ToString();
        Assert.True(text.Contains("Pareto front", StringComparison.Ordinal), text);
        Assert.True(text.Contains("    8       200", StringComparison.Ordinal), text);
        Assert.Contains("within the p99 budget of 10000000 µs", text);
        string svg = report.ToSvg("rows: items/s vs p99");
        Assert.StartsWith("<svg", svg);
        Assert.Contains("<polyline", svg);
        Assert.Contains("recommended", svg);
    }
}
