using System.Globalization;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Testing;
using Xunit;

namespace TypedTrt.Runtime.GpuTests;

/// <summary>
/// The runner on every visible GPU (<see cref="InferenceRunnerOptions.AllVisibleDevices"/>) with one NVRTC engine per
/// device: exact results, every device used, graphs and profiling per device, no leaks, and a device that does not exist
/// reported by ordinal with its CUDA error. The same tests run with one GPU (N = 1) and with eight.
/// </summary>
public sealed class MultiDeviceGpuTests
{
    private const int Width = 64;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task RunExactAsync(InferenceRunner runner, int seed, int batch)
    {
        using var lease = await runner.AcquireAsync(Ct);
        lease.SetInputShape(0, [batch, Width]);
        lease.SetInputShape(1, [batch, Width]);
        lease.SetInputShape(2, [batch]);
        var a = lease.GetInputSpan<float>(0);
        var b = lease.GetInputSpan<float>(1);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = ((seed + i) % 129) - 64;
            b[i] = ((seed * 7 + i) % 129) - 64;
        }

        var bias = lease.GetInputSpan<int>(2);
        for (int r = 0; r < batch; r++)
            bias[r] = seed - r;
        float[] ea = a.ToArray(), eb = b.ToArray();
        await lease.RunAsync(Ct);
        var sum = lease.GetOutputSpan<float>(3);
        var rowdot = lease.GetOutputSpan<float>(5);
        for (int i = 0; i < ea.Length; i++)
        {
            if (sum[i] != ea[i] + eb[i])
                Assert.Fail($"request {seed}: sum[{i}] = {sum[i]}, expected {ea[i] + eb[i]}");
        }

        for (int r = 0; r < batch; r++)
        {
            float dot = 0;
            for (int j = 0; j < Width; j++)
                dot += ea[r * Width + j] * eb[r * Width + j];
            if (rowdot[r] != dot + seed - r)
                Assert.Fail($"request {seed}: rowdot[{r}] = {rowdot[r]}, expected {dot + seed - r}");
        }
    }

    [Fact]
    public async Task EveryVisibleDevice_ExactResults_AndEveryDeviceServes()
    {
        Gpu.Require();
        int n = CudaDriver.DeviceCount;
        var engines = new Dictionary<int, NvrtcTestEngine>();
        await using (var runner = new InferenceRunner(d =>
        {
            var e = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 32, deviceOrdinal: d);
            lock (engines)
                engines[d] = e;
            return e;
        }, new InferenceRunnerOptions { Devices = InferenceRunnerOptions.AllVisibleDevices, Streams = 2 }))
        {
            Assert.Equal(Enumerable.Range(0, n), runner.Devices);
            Assert.Equal(2 * n, runner.SlotCount);
            for (int d = 0; d < n; d++)
            {
                Assert.Equal(d, runner.GetCudaContext(d)!.DeviceOrdinal);
                int node = CudaDriver.GetHostNumaNode(d);
                Assert.Equal(node, runner.GetHostNumaNode(d));
                // Pinned buffers live on the device's host node when the driver tells it and the machine has several nodes.
                int expected = NumaHostMemory.CanPlace(node) ? node : -1;
                foreach (var slot in runner.DeviceList[d].Slots)
                    Assert.All(slot.PinnedNumaNodes(), p => Assert.Equal(expected, p));
                Gpu.Log($"{{\"kind\":\"multi_device_numa\",\"device\":{d},\"host_numa\":{node},\"pinned_on\":{expected},\"numa_nodes\":{Directory.GetDirectories("/sys/devices/system/node", "node*").Length}}}");
            }

            const int Requests = 3000;
            await Task.WhenAll(Enumerable.Range(0, 8 * n).Select(w => Task.Run(async () =>
            {
                for (int i = w; i < Requests; i += 8 * n)
                    await RunExactAsync(runner, i, 1 + (i * 7 % 32));
            }, Ct)));
            Assert.Equal(Requests, engines.Values.Sum(e => e.Enqueues));
            foreach (var (d, e) in engines)
                Assert.True(e.Enqueues > Requests / n / 4, $"device {d} ran {e.Enqueues} of {Requests} requests");
            string per = string.Join(",", engines.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{{\"device\":{p.Key},\"requests\":{p.Value.Enqueues},\"host_numa\":{runner.GetHostNumaNode(p.Key)},\"name\":\"{CudaDriver.GetDeviceName(p.Key)}\"}}")));
            Gpu.Log($"{{\"kind\":\"multi_device\",\"devices\":{n},\"per_device\":[{per}]}}");
        }

        foreach (var e in engines.Values)
            Assert.Throws<ObjectDisposedException>(() => e.CreateContext()); // the runner disposed the engines it created
    }

    [Fact]
    public async Task GraphsAndProfiling_PerDevice()
    {
        Gpu.Require();
        int n = CudaDriver.DeviceCount;
        await using var runner = new InferenceRunner(
            d => NvrtcTestEngine.CreatePipeline(1 << 20, 4096, 8, 8, deviceOrdinal: d),
            new InferenceRunnerOptions { Devices = InferenceRunnerOptions.AllVisibleDevices, Streams = 2, UseCudaGraphs = true });
        var input = new float[1 << 18];
        for (int i = 0; i < input.Length; i++)
            input[i] = i % 97;
        var expected = new float[1024];
        NvrtcTestEngine.PipelineReference(input, expected, 8);

        async Task RunAsync()
        {
            using var lease = await runner.AcquireAsync(Ct);
            input.CopyTo(lease.GetInputSpan<float>(0));
            await lease.RunAsync(Ct);
            Assert.Equal(expected, lease.GetOutputSpan<float>(1).ToArray());
        }

        await Task.WhenAll(Enumerable.Range(0, 4 * n).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
                await RunAsync();
        }, Ct)));
        Assert.True(runner.GraphLaunchCount > 0, "graphs replayed");
        Assert.Equal(0, runner.GraphFallbackCount);

        runner.StartProfiling();
        await Task.WhenAll(Enumerable.Range(0, 4 * n).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
                await RunAsync();
        }, Ct)));
        var t = runner.StopProfiling();
        Assert.Equal(40 * n, t.Requests);
        Assert.Equal(n, t.PerDevice.Count);
        Assert.All(t.PerDevice, d => Assert.True(d.Requests > 0 && d.ComputeMicroseconds > 0, $"device {d.DeviceOrdinal}: {d}"));
        var report = BottleneckReport.Analyze(t, runner.MeasurePinnedH2DPeaks(16L << 20, 5));
        Assert.Equal(n > 1 ? n : 0, report.Devices.Count);
        Gpu.Log($"{{\"kind\":\"multi_device_profile\",\"devices\":{n},\"bottleneck\":\"{report.Bottleneck}\",\"requests\":[{string.Join(",", t.PerDevice.Select(d => d.Requests))}]}}");
    }

    [Fact]
    public async Task ADeviceThatDoesNotExist_IsReportedByOrdinal_WithTheCudaError_AndNothingLeaks()
    {
        Gpu.Require();
        int n = CudaDriver.DeviceCount;
        long pinned0 = CudaDiagnostics.LivePinnedBytes, device0 = CudaDiagnostics.LiveDeviceBytes;

        // Through the factory (every visible device, then one more).
        int[] devices = [.. Enumerable.Range(0, n), n];
        var ex = Assert.Throws<DeviceStartupException>(() => new InferenceRunner(d => NvrtcTestEngine.CreateElementwise(Width, 8, d), new InferenceRunnerOptions { Devices = devices }));
        Assert.Equal(n, ex.DeviceOrdinal);
        Assert.Equal(101, ex.CudaError); // CUDA_ERROR_INVALID_DEVICE
        Assert.Contains($"Device {n} failed to start", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA_ERROR_INVALID_DEVICE", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"ordinals 0..{n - 1}", ex.Message, StringComparison.Ordinal);

        // The one-device path: an engine on device 0, a runner asked for a device that does not exist.
        using (var engine = NvrtcTestEngine.CreateElementwise(Width, 8))
        {
            var one = Assert.Throws<DeviceStartupException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { DeviceOrdinal = n + 3 }));
            Assert.Equal(n + 3, one.DeviceOrdinal);
            Assert.Equal(101, one.CudaError);
            Assert.Equal(0, engine.Enqueues);

            // The engine is untouched: a runner on its real device works.
            await using var ok = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
            await RunExactAsync(ok, 3, 4);
        }

        Assert.Equal(pinned0, CudaDiagnostics.LivePinnedBytes);
        Assert.Equal(device0, CudaDiagnostics.LiveDeviceBytes);
        Gpu.Log($"{{\"kind\":\"multi_device_startup_error\",\"message\":\"{System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(ex.Message)}\"}}");
    }
}
