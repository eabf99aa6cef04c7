using System.Xml.Linq;
using TypedTrt.Runtime.Diagnostics;
using Xunit;

namespace TypedTrt.Runtime.Tests;

public sealed class DiagnosticsTests
{
    private static StageTimings Run(double h2d, double compute, double d2h, double perRequestUs, long h2dBytes = 8 << 20) =>
        new(Requests: 1000, Streams: 1, WallSeconds: perRequestUs * 1000 / 1e6, H2DMicroseconds: h2d, ComputeMicroseconds: compute,
            D2HMicroseconds: d2h, HostGapMicroseconds: 5, H2DBytes: h2dBytes, D2HBytes: 65536);

    [Fact]
    public void Copies_longer_than_compute_with_overlap_achieved_is_pcie_bound()
    {
        var r = BottleneckReport.Analyze(Run(h2d: 400, compute: 150, d2h: 10, perRequestUs: 420), peakH2DGigabytesPerSecond: 25);
        Assert.Equal(Bottleneck.Pcie, r.Bottleneck);
        Assert.Equal(400, r.DeviceFloorMicroseconds);
        Assert.Equal(420, r.AchievedMicroseconds, 6);
        Assert.Equal((8 << 20) / 400.0 / 1e3, r.Timings.H2DGigabytesPerSecond, 9);
        Assert.Equal(r.Timings.H2DGigabytesPerSecond / 25, r.H2DEfficiency, 9);
        Assert.Contains("PCIe-bound", r.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Slow_copies_relative_to_pinned_peak_point_at_pageable_memory()
    {
        var r = BottleneckReport.Analyze(Run(h2d: 800, compute: 150, d2h: 10, perRequestUs: 810), peakH2DGigabytesPerSecond: 25);
        Assert.Equal(Bottleneck.Pcie, r.Bottleneck);
        Assert.True(r.H2DEfficiency < 0.8);
        Assert.Contains("pinned", r.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_longer_than_copies_is_compute_bound()
    {
        var r = BottleneckReport.Analyze(Run(h2d: 100, compute: 900, d2h: 10, perRequestUs: 950), 25);
        Assert.Equal(Bottleneck.Compute, r.Bottleneck);
        var (h2d, compute, d2h) = r.StageShares;
        Assert.Equal(1.0, h2d + compute + d2h, 9);
        Assert.Equal(900 / 1010.0, compute, 9);
    }

    [Fact]
    public void Wall_time_well_above_the_device_floor_is_host_bound_with_the_threshold_at_125_percent()
    {
        Assert.Equal(Bottleneck.Host, BottleneckReport.Analyze(Run(10, 20, 5, perRequestUs: 20 * 1.26), 25).Bottleneck);
        Assert.Equal(Bottleneck.Compute, BottleneckReport.Analyze(Run(10, 20, 5, perRequestUs: 20 * 1.24), 25).Bottleneck);
        var r = BottleneckReport.Analyze(Run(10, 20, 5, perRequestUs: 60), 25);
        Assert.Contains("3.0x the device floor", r.Advice, StringComparison.Ordinal);
        Assert.Contains("Bottleneck: Host", r.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_backend_without_copies_is_described_as_such()
    {
        var t = new StageTimings(Requests: 100, Streams: 2, WallSeconds: 100 * 500 / 1e6, H2DMicroseconds: 0, ComputeMicroseconds: 200,
            D2HMicroseconds: 0, HostGapMicroseconds: 300, H2DBytes: 0, D2HBytes: 0);
        var r = BottleneckReport.Analyze(t, 0);
        Assert.True(r.IsHostBackend);
        Assert.Equal(Bottleneck.Host, r.Bottleneck);
        Assert.Contains("2.5x the backend's run time", r.Advice, StringComparison.Ordinal);
        Assert.DoesNotContain("GPU", r.Advice, StringComparison.Ordinal);
        Assert.Contains("backend run 200.0 µs", r.ToString(), StringComparison.Ordinal);
        Assert.Equal(Bottleneck.Compute, BottleneckReport.Analyze(t with { WallSeconds = 100 * 210 / 1e6 }, 0).Bottleneck);
        Assert.False(BottleneckReport.Analyze(Run(10, 20, 5, 60), 25).IsHostBackend);
    }

    [Fact]
    public void Several_streams_at_the_copy_ceiling_are_pcie_bound_despite_queueing_in_event_times()
    {
        // Workload (a) at 4 streams, measured on the H100 (docs/benchmarks/pipeline-results.md): event-timed H2D is
        // 511.7 µs because copies queue behind other streams', yet the run moves 52.4 GB/s, 95% of the pinned peak.
        var t = new StageTimings(Requests: 512, Streams: 4, WallSeconds: 512 / 6252.6, H2DMicroseconds: 511.7, ComputeMicroseconds: 73.3,
            D2HMicroseconds: 22.0, HostGapMicroseconds: 30.5, H2DBytes: 8388608, D2HBytes: 65536);
        var r = BottleneckReport.Analyze(t, peakH2DGigabytesPerSecond: 54.95);
        Assert.True(r.CopiesQueued);
        Assert.Equal(Bottleneck.Pcie, r.Bottleneck);
        Assert.Equal(8388608 * 6252.6 / 1e9, r.AchievedH2DGigabytesPerSecond, 6);
        Assert.InRange(r.H2DEfficiency, 0.95, 0.96);
        Assert.Equal(8388608 / 54.95e3, r.DeviceFloorMicroseconds, 6);
        Assert.DoesNotContain("pageable", r.Advice, StringComparison.Ordinal);
        Assert.Contains("moved over the run", r.ToString(), StringComparison.Ordinal);

        // The same event times from one stream would mean slow copies: there they are the copies' own durations.
        var one = BottleneckReport.Analyze(t with { Streams = 1, WallSeconds = 512 * 620e-6 }, 54.95);
        Assert.False(one.CopiesQueued);
        Assert.Equal(Bottleneck.Pcie, one.Bottleneck);
        Assert.True(one.H2DEfficiency < 0.8);
        Assert.Contains("pageable", one.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_rejects_empty_runs()
    {
        Assert.Throws<ArgumentException>(() => BottleneckReport.Analyze(Run(1, 1, 1, 0), 25));
    }

    [Fact]
    public void Svg_chart_is_well_formed_xml_with_one_polyline_and_point_per_value()
    {
        var svg = SvgChart.LineChart("Throughput vs streams <test>", "streams", "req/s", [
            new ChartSeries("C# runner", [(1, 100), (2, 180), (4, 230), (8, 231)]),
            new ChartSeries("native", [(1, 101), (2, 181), (4, 235), (8, 236)]),
        ]);
        var doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(2, doc.Descendants(ns + "polyline").Count());
        Assert.Equal(8, doc.Descendants(ns + "circle").Count());
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "Throughput vs streams <test>");
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "250");  // y axis rounded up to a nice 250
        var first = doc.Descendants(ns + "polyline").First().Attribute("points")!.Value.Split(' ');
        Assert.Equal(4, first.Length);
        double y1 = double.Parse(first[0].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        double y4 = double.Parse(first[3].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(y4 < y1, "higher throughput is drawn higher");
    }

    [Theory]
    [InlineData(0.7, 1)]
    [InlineData(3, 5)]
    [InlineData(231, 250)]
    [InlineData(1000, 1000)]
    [InlineData(1001, 2000)]
    public void Axis_maximum_rounds_up_to_a_readable_value(double v, double expected) => Assert.Equal(expected, SvgChart.NiceCeiling(v), 9);

    [Fact]
    public void Svg_chart_rejects_no_points_and_non_finite_values()
    {
        Assert.Throws<ArgumentException>(() => SvgChart.LineChart("t", "x", "y", [new ChartSeries("s", [])]));
        Assert.Throws<ArgumentException>(() => SvgChart.LineChart("t", "x", "y", [new ChartSeries("s", [(1, double.NaN)])]));
    }
}
