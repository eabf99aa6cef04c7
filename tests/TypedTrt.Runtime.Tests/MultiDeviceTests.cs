using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>
/// The runner on several devices over a fake multi-device host engine: one engine per device from the factory, slots
/// spread per device, least-loaded routing, start-up failures reported by ordinal, per-device profiling and reports.
/// </summary>
public sealed class MultiDeviceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A factory of fake engines that remembers what it created, per ordinal.</summary>
    private sealed class FakeDevices
    {
        public readonly Dictionary<int, FakeEngine> Engines = [];
        public readonly List<int> Calls = [];

        public TimeSpan Delay { get; init; }

        public Func<int, FakeEngine>? Override { get; init; }

        public FakeEngine Create(int ordinal)
        {
            lock (Calls)
                Calls.Add(ordinal);
            var e = Override?.Invoke(ordinal) ?? new FakeEngine { DeviceOrdinal = ordinal, Delay = Delay };
            Engines[ordinal] = e;
            return e;
        }
    }

    private static async Task RunOneAsync(InferenceRunner runner, int seed)
    {
        using var lease = await runner.AcquireAsync(Ct);
        int batch = 1 + (seed % 8);
        lease.SetInputShape(0, [batch, FakeEngine.Width]);
        lease.SetInputShape(1, [batch, FakeEngine.Width]);
        var a = lease.GetInputSpan<float>(0);
        var b = lease.GetInputSpan<int>(1);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = seed + i;
            b[i] = seed - i;
        }

        lease.GetInputSpan<float>(2)[0] = 3;
        await lease.RunAsync(Ct);
        var y = lease.GetOutputSpan<float>(3);
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] != (seed + i) * 3f + (seed - i))
                Assert.Fail($"request {seed}: y[{i}] = {y[i]}");
        }
    }

    [Fact]
    public async Task Factory_CreatesOneEnginePerDevice_AndSpreadsTheSlots()
    {
        var devices = new FakeDevices();
        var runner = new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1, 3], Streams = 2 });
        Assert.Equal([0, 1, 3], runner.Devices);
        Assert.Equal(6, runner.SlotCount);
        Assert.Equal([0, 1, 3], devices.Calls);
        foreach (var (ordinal, engine) in devices.Engines)
        {
            Assert.Equal(ordinal, engine.DeviceOrdinal);
            Assert.Equal(2, engine.ContextsCreated);
            Assert.Equal(-1, runner.GetHostNumaNode(ordinal)); // host engines: no CUDA, no NUMA facts
        }

        Assert.Throws<ArgumentException>(() => runner.GetSlotsInUse(2));
        await runner.DisposeAsync();
        foreach (var engine in devices.Engines.Values)
        {
            Assert.True(engine.Disposed, "the runner owns the factory's engines");
            Assert.Equal(2, engine.ContextsDisposed);
        }
    }

    [Fact]
    public async Task Requests_GoToTheLeastLoadedDevice_WithAFreeSlot()
    {
        var devices = new FakeDevices();
        await using var runner = new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1, 2], Streams = 2 });
        int[] InUse() => [runner.GetSlotsInUse(0), runner.GetSlotsInUse(1), runner.GetSlotsInUse(2)];

        var leases = new List<InferenceLease>();
        for (int i = 0; i < 3; i++)
            leases.Add(await runner.AcquireAsync(Ct));
        Assert.Equal([1, 1, 1], InUse());
        for (int i = 0; i < 3; i++)
            leases.Add(await runner.AcquireAsync(Ct));
        Assert.Equal([2, 2, 2], InUse());

        // All busy: the next caller waits and gets the first slot returned, which stays in use.
        var waiting = runner.AcquireAsync(Ct);
        Assert.False(waiting.IsCompleted);
        leases[4].Dispose();
        var handed = await waiting;
        Assert.Equal([2, 2, 2], InUse());
        leases[4] = handed;

        // Every slot back; then the next lease goes where the load is lowest.
        foreach (var l in leases)
            l.Dispose();
        Assert.Equal([0, 0, 0], InUse());
        using var l1 = await runner.AcquireAsync(Ct);
        using var l2 = await runner.AcquireAsync(Ct);
        using var l3 = await runner.AcquireAsync(Ct);
        Assert.Equal([1, 1, 1], InUse());
        l2.Dispose();
        using var l4 = await runner.AcquireAsync(Ct);
        Assert.Equal([1, 1, 1], InUse()); // the freed device is the only one with load 0
    }

    [Fact]
    public async Task ConcurrentCallers_ExactResults_SpreadOverEveryDevice()
    {
        var devices = new FakeDevices { Delay = TimeSpan.FromMilliseconds(1) };
        await using var runner = new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1, 2, 3], Streams = 2 });
        const int Requests = 800;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (int i = w; i < Requests; i += 16)
                await RunOneAsync(runner, i);
        }, Ct)));
        long total = devices.Engines.Values.Sum(e => e.Enqueues);
        Assert.Equal(Requests, total);
        foreach (var (ordinal, engine) in devices.Engines)
        {
            Assert.True(engine.Enqueues >= Requests / 4 / 3, $"device {ordinal} ran only {engine.Enqueues} of {Requests} requests");
            Assert.True(engine.MaxConcurrentEnqueues <= 2, $"device {ordinal} ran {engine.MaxConcurrentEnqueues} requests at once on 2 slots");
        }
    }

    [Fact]
    public async Task OneDevice_IsTheSameCodePath_AndNeverCallsTheFactoryForAGivenEngine()
    {
        using var engine = new FakeEngine();
        var devices = new FakeDevices();
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { DeviceOrdinal = 5, Streams = 3, EngineFactory = devices.Create }))
        {
            Assert.Equal([5], runner.Devices);
            Assert.Equal(3, runner.SlotCount);
            await RunOneAsync(runner, 7);
            Assert.Equal(1, engine.Enqueues);
        }

        Assert.Empty(devices.Calls);
        Assert.False(engine.Disposed, "an engine passed to the constructor belongs to the caller");
    }

    [Fact]
    public async Task GivenEngine_ServesTheFirstDevice_FactoryTheOthers()
    {
        using var engine = new FakeEngine { DeviceOrdinal = 2 };
        var devices = new FakeDevices();
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Devices = [2, 0], Streams = 1, EngineFactory = devices.Create }))
        {
            Assert.Equal([2, 0], runner.Devices);
            Assert.Equal([0], devices.Calls);
            Assert.Equal(1, engine.ContextsCreated);
        }

        Assert.False(engine.Disposed);
        Assert.True(devices.Engines[0].Disposed);
    }

    [Fact]
    public async Task HostEngine_WithoutFactory_ServesEveryListedDevice()
    {
        using var engine = new FakeEngine();
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Devices = [0, 1], Streams = 2 }))
        {
            Assert.Equal(4, runner.SlotCount);
            Assert.Equal(4, engine.ContextsCreated);
            await Task.WhenAll(Enumerable.Range(0, 40).Select(i => RunOneAsync(runner, i)));
        }

        await using (var all = new InferenceRunner(engine, new InferenceRunnerOptions { Devices = InferenceRunnerOptions.AllVisibleDevices, Streams = 2 }))
        {
            Assert.Equal([0], all.Devices); // host engines ignore devices: "all visible" is one group, no driver needed
        }

        Assert.False(engine.Disposed);
    }

    [Fact]
    public void DeviceEngine_OnSeveralDevicesWithoutFactory_IsRefusedBeforeTouchingCuda()
    {
        using var engine = new FakeEngine(BufferPlacement.Device);
        var ex = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { Devices = [0, 1] }));
        Assert.Contains("EngineFactory", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 devices (0, 1)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.ContextsCreated);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 0 }, "listed twice")]
    [InlineData(new[] { 0, -1 }, "negative")]
    public void BadDeviceLists_AreRefused(int[] devices, string message)
    {
        using var engine = new FakeEngine();
        var ex = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { Devices = devices }));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FactoryFailure_IsReportedByOrdinal_AndEverythingCreatedIsFreed()
    {
        var devices = new FakeDevices
        {
            Override = d => d == 2 ? throw new InvalidDataException("plan for device 2 is corrupt") : new FakeEngine { DeviceOrdinal = d },
        };
        var ex = Assert.Throws<DeviceStartupException>(() => new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1, 2, 3] }));
        Assert.Equal(2, ex.DeviceOrdinal);
        Assert.Null(ex.CudaError);
        Assert.IsType<InvalidDataException>(ex.InnerException);
        Assert.StartsWith("Device 2 failed to start (the engine factory failed): plan for device 2 is corrupt", ex.Message, StringComparison.Ordinal);
        Assert.Equal([0, 1, 2], devices.Calls);
        foreach (var e in devices.Engines.Values)
            Assert.True(e.Disposed);
    }

    [Fact]
    public void CudaErrorAtContextCreation_IsReportedByOrdinal_WithTheCudaError()
    {
        var devices = new FakeDevices
        {
            Override = d => new FakeEngine { DeviceOrdinal = d, CreateContextError = d == 1 ? new CudaException(2, "cuMemAlloc_v2") : null },
        };
        var ex = Assert.Throws<DeviceStartupException>(() => new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1], Streams = 2 }));
        Assert.Equal(1, ex.DeviceOrdinal);
        Assert.Equal(2, ex.CudaError);
        Assert.Contains("Device 1 failed to start (creating its context and streams)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA_ERROR_OUT_OF_MEMORY", ex.Message, StringComparison.Ordinal);
        var first = devices.Engines[0];
        Assert.Equal(first.ContextsCreated, first.ContextsDisposed);
        Assert.True(first.Disposed);
        Assert.True(devices.Engines[1].Disposed);
    }

    [Fact]
    public void FactoryEngine_WithAnotherSignature_IsRefusedNamingTheDevice()
    {
        var devices = new FakeDevices
        {
            Override = d => d == 1 ? new FakeEngine(maxBatch: 4) { DeviceOrdinal = d } : new FakeEngine { DeviceOrdinal = d },
        };
        var ex = Assert.Throws<ArgumentException>(() => new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1] }));
        Assert.Contains("device 1 differs from device 0's", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'a'", ex.Message, StringComparison.Ordinal);
        Assert.All(devices.Engines.Values, e => Assert.True(e.Disposed));
    }

    [Fact]
    public async Task Profiling_ReportsEveryDevice_AndTheTotal()
    {
        var devices = new FakeDevices { Delay = TimeSpan.FromMilliseconds(1) };
        await using var runner = new InferenceRunner(devices.Create, new InferenceRunnerOptions { Devices = [0, 1], Streams = 2 });
        runner.StartProfiling();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int i = w; i < 200; i += 8)
                await RunOneAsync(runner, i);
        }, Ct)));
        var t = runner.StopProfiling();
        Assert.Equal(200, t.Requests);
        Assert.Equal(4, t.Streams);
        Assert.Equal(-1, t.DeviceOrdinal);
        Assert.Equal([0, 1], t.PerDevice.Select(d => d.DeviceOrdinal));
        Assert.All(t.PerDevice, d => Assert.Equal(2, d.Streams));
        Assert.Equal(200, t.PerDevice.Sum(d => d.Requests));
        Assert.Equal(devices.Engines[0].Enqueues, t.PerDevice[0].Requests);
        var report = BottleneckReport.Analyze(t, 0);
        Assert.Equal(2, report.Devices.Count);
        Assert.Contains("device 1:", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void BottleneckReport_NamesTheDeviceWhosePcieSaturates()
    {
        // 8 MiB per request over two streams per device; device 0 copies at ~52 GB/s (161 µs) under a 400 µs kernel and
        // runs near its compute floor; device 1's link gives 12.5 GB/s (671 µs a copy) and runs near that floor.
        const long Bytes = 8L << 20;
        var d0 = new StageTimings(2400, 2, 1.0, 168, 400, 3, 20, Bytes, 65536) { DeviceOrdinal = 0 };
        var d1 = new StageTimings(1450, 2, 1.0, 1300, 400, 3, 20, Bytes, 65536) { DeviceOrdinal = 1 };
        var total = new StageTimings(3850, 4, 1.0, (168 * 2400 + 1300 * 1450) / 3850.0, 400, 3, 20, Bytes, 65536) { PerDevice = [d0, d1] };
        var report = BottleneckReport.Analyze(total, new Dictionary<int, double> { [0] = 52, [1] = 12.5 });
        Assert.Equal(Bottleneck.Compute, report.Devices[0].Bottleneck);
        Assert.Equal(Bottleneck.Pcie, report.Devices[1].Bottleneck);
        Assert.Equal(Bottleneck.Pcie, report.Bottleneck); // the slowest device's
        Assert.Equal(64.5, report.PeakH2DGigabytesPerSecond, 6);
        Assert.Equal(1 / (1 / 400.0 + 1 / (Bytes / 12.5e3)), report.DeviceFloorMicroseconds, 6);
        Assert.True(report.Devices[1].H2DEfficiency > 0.95, $"device 1 moves {report.Devices[1].H2DEfficiency:P0} of its peak");
        Assert.Contains("Device 1 is PCIe-bound (1450 req/s, copies at 97 % of its pinned peak 12.5 GB/s)", report.Advice, StringComparison.Ordinal);
        Assert.Contains("while device(s) 0 (Compute) are not", report.Advice, StringComparison.Ordinal);
        Assert.DoesNotContain("Device 0 is PCIe-bound", report.Advice, StringComparison.Ordinal);
        Assert.Contains("over 2 devices", report.ToString(), StringComparison.Ordinal);

        // One device: the report is what it always was (no per-device lines).
        var one = BottleneckReport.Analyze(d1 with { PerDevice = [d1] }, 12.5);
        Assert.Empty(one.Devices);
        Assert.Equal(Bottleneck.Pcie, one.Bottleneck);
        Assert.DoesNotContain("Device 1 is", one.Advice, StringComparison.Ordinal);
    }
}

public sealed class NumaHostMemoryTests
{
    [Fact]
    public unsafe void Map_PrefersTheNode_AndTheMemoryIsUsable()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/sys/devices/system/node/node0"))
            Assert.Skip("Needs Linux with NUMA in the kernel (/sys/devices/system/node/node0).");
        nint p = TypedTrt.Runtime.Cuda.NumaHostMemory.Map(3 << 20, 0, out nuint mapped);
        Assert.NotEqual(0, p);
        Assert.Equal(0u, mapped % (nuint)Environment.SystemPageSize);
        Assert.True(mapped >= 3 << 20);
        var span = new Span<byte>((void*)p, 3 << 20);
        span.Fill(0xAB);
        Assert.Equal(0xAB, span[^1]);
        TypedTrt.Runtime.Cuda.NumaHostMemory.Unmap(p, mapped);
        Assert.Equal(0, TypedTrt.Runtime.Cuda.NumaHostMemory.Map(4096, 63, out _)); // no such node: refused, the caller falls back
    }
}
