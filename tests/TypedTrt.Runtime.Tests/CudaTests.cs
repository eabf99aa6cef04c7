using TypedTrt.Runtime.Cuda;
using Xunit;

namespace TypedTrt.Runtime.Tests;

public sealed class CudaTests
{
    [Fact]
    public void CudaException_NamesCallErrorAndMessage()
    {
        var ex = new CudaException(2, "cuMemAlloc_v2");
        Assert.Equal("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", ex.Message);
        Assert.Equal(2, ex.Result);
        Assert.Equal("cuMemAlloc_v2", ex.Call);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", ex.ErrorName);
        Assert.False(ex.IsSticky);
        Assert.True(new CudaException(700, "cuStreamSynchronize").IsSticky);
        Assert.Contains("CUDA_ERROR_ILLEGAL_ADDRESS (700)", new CudaException(700, "x").Message, StringComparison.Ordinal);
        var unknown = new CudaException(12345, "cuFoo");
        Assert.StartsWith("cuFoo failed: ", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("12345", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<CudaException>(() => CudaException.Check(1, "cuBar"));
        CudaException.Check(0, "cuBar");
    }

    [Fact]
    public void MissingDriver_IsCudaUnavailableException_WithAdvice()
    {
        var ex = Assert.Throws<CudaUnavailableException>(() => CudaDriver.LoadDriver(["libtypedtrt-no-such-driver.so.1"]));
        Assert.Contains("No NVIDIA driver was found", ex.Message, StringComparison.Ordinal);
        Assert.Contains("libtypedtrt-no-such-driver.so.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Install the NVIDIA", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoDriverOnThisMachine_PublicEntryPointsThrowCudaUnavailable_NotDllNotFound()
    {
        if (CudaDriver.IsAvailable)
            Assert.Skip("A CUDA driver is present on this machine.");
        Assert.Throws<CudaUnavailableException>(() => CudaContext.RetainPrimary(0));
        Assert.Throws<CudaUnavailableException>(() => CudaDriver.Version);
        Assert.Throws<CudaUnavailableException>(CudaDriver.EnsureInitialized); // the failure is remembered, thrown again
    }

    [Fact]
    public void DriverNames_IncludeThePlatformLibrary()
    {
        Assert.Contains(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", CudaDriver.DriverLibraryNames);
        Assert.Contains(CudaDriver.NvrtcLibraryNames, n => n.Contains("nvrtc", StringComparison.Ordinal));
    }
}
