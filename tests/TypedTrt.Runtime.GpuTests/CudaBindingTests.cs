using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TypedTrt.Runtime.Cuda;
using Xunit;

namespace TypedTrt.Runtime.GpuTests;

/// <summary>The driver binding beyond what the runner uses: events, graphs, host functions, module loading.</summary>
public sealed unsafe class CudaBindingTests
{
    private static int s_hostCalls;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void HostFunction(nint userData) => Interlocked.Add(ref s_hostCalls, (int)userData);

    [Fact]
    public void Events_Graphs_HostFunctions_Work()
    {
        Gpu.Require();
        using var ctx = CudaContext.RetainPrimary(0);
        var (major, minor) = CudaDriver.GetComputeCapability(0);
        byte[] ptx = Nvrtc.CompileToPtx(
            "extern \"C\" __global__ void add1(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] += 1.f; }",
            "add1.cu", $"--gpu-architecture=compute_{major}{minor}");
        using var module = ctx.LoadModule(ptx);
        var add1 = module.GetFunction("add1");
        const int n = 1 << 20;
        using var host = ctx.AllocatePinned(n * 4L);
        using var dev = ctx.Allocate(n * 4L);
        Assert.Equal(0UL, dev.Address % 256);
        var values = MemoryMarshal.Cast<byte, float>(host.AsSpan());
        for (int i = 0; i < n; i++)
            values[i] = i % 977;
        using var stream = ctx.CreateStream();
        using var start = ctx.CreateEvent(enableTiming: true);
        using var end = ctx.CreateEvent(enableTiming: true);
        start.Record(stream);
        stream.CopyToDevice(dev, host.Pointer, n * 4L);

        ulong p = dev.Address;
        int count = n;
        nint* args = stackalloc nint[] { (nint)(&p), (nint)(&count) };
        stream.BeginCapture();
        add1.Launch((n + 255) / 256, 256, stream.Handle, new ReadOnlySpan<nint>(args, 2));
        using var graph = stream.EndCapture();
        for (int r = 0; r < 3; r++)
            graph.Launch(stream);
        stream.CopyToHost(host.Pointer, dev, n * 4L);
        s_hostCalls = 0;
        CudaException.Check(CudaNative.cuLaunchHostFunc(stream.Handle, &HostFunction, 5), "cuLaunchHostFunc");
        end.Record(stream);
        end.Synchronize();
        stream.Synchronize();
        Assert.True(end.IsComplete());
        Assert.True(stream.IsIdle());
        Assert.Equal(5, Volatile.Read(ref s_hostCalls));
        float ms = end.ElapsedSince(start);
        Assert.True(ms > 0, $"elapsed {ms} ms");
        for (int i = 0; i < n; i++)
        {
            if (values[i] != i % 977 + 3)
                Assert.Fail($"x[{i}] = {values[i]}, expected {i % 977 + 3}");
        }

        Assert.Throws<CudaException>(() => module.GetFunction("no_such_kernel"));
        Gpu.Log($"{{\"kind\":\"binding\",\"copy_graph_copy_ms\":{ms:F3}}}");
    }
}
