using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT.Tests;

/// <summary>
/// The shim search itself (<see cref="ShimLibrary.Load"/>), exercised without changing the process's loaded shim:
/// once one is loaded the process keeps it, so failures are tested on the search function directly.
/// </summary>
public class LibraryLoadingTests
{
    [Fact]
    public void Missing_explicit_path_names_the_path_and_what_to_install()
    {
        string missing = Path.Combine(FakeShim.NewTempDir("missing"), "no-such-dir", "libtypedtrt_trt.so");
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(missing, "TensorRtRuntime.NativeLibraryPath", null, null, searchSystemPath: true));
        Assert.Equal(TensorRtStatus.LibraryNotFound, e.Status);
        Assert.Contains($"TensorRtRuntime.NativeLibraryPath is set to '{missing}'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{missing} (TensorRtRuntime.NativeLibraryPath): does not exist", e.Message, StringComparison.Ordinal);
        Assert.Single(e.TriedPaths); // a configured path never falls back to another file
        Assert.Contains("TYPEDTRT_NATIVE_LIB", e.Message, StringComparison.Ordinal);
        Assert.Contains("libnvinfer.so.10", e.Message, StringComparison.Ordinal);
        Assert.Contains("docs/tensorrt.md", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_environment_path_names_the_variable()
    {
        string missing = "/nonexistent/typedtrt/libtypedtrt_trt.so";
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(null, "x", missing, "/also/nonexistent", searchSystemPath: true));
        Assert.Contains($"The environment variable TYPEDTRT_NATIVE_LIB is set to '{missing}'", e.Message, StringComparison.Ordinal);
        Assert.Equal([$"{missing} (environment variable TYPEDTRT_NATIVE_LIB): does not exist"], e.TriedPaths);
    }

    [Fact]
    public void Default_search_lists_every_place_tried_and_never_throws_DllNotFound()
    {
        string appDir = FakeShim.NewTempDir("empty-app");
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(null, "x", null, appDir, searchSystemPath: true));
        string file = ShimLibrary.PlatformFileName;
        string rid = ShimLibrary.RuntimeIdentifiers().Last();
        Assert.Contains(e.TriedPaths, t => t.StartsWith(Path.Combine(appDir, "runtimes", rid, "native", file) + $" (runtimes/{rid}/native): does not exist", StringComparison.Ordinal));
        Assert.Contains(e.TriedPaths, t => t.StartsWith(Path.Combine(appDir, file) + " (the application folder): does not exist", StringComparison.Ordinal));
        Assert.Contains(e.TriedPaths, t => t.StartsWith($"'{file}' through the system library search path", StringComparison.Ordinal));
        Assert.Contains($"The TypedTrt TensorRT shim ({file}) was not found.", e.Message, StringComparison.Ordinal);
        foreach (string t in e.TriedPaths)
            Assert.Contains(t, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runtimes_rid_native_folder_is_found()
    {
        FakeShim.RequireCompiled();
        string appDir = FakeShim.NewTempDir("app");
        string rid = ShimLibrary.RuntimeIdentifiers().Last();
        string native = Path.Combine(appDir, "runtimes", rid, "native");
        Directory.CreateDirectory(native);
        File.Copy(FakeShim.FakePath, Path.Combine(native, ShimLibrary.PlatformFileName));
        var (handle, path) = ShimLibrary.Load(null, "x", null, appDir, searchSystemPath: false);
        Assert.NotEqual(0, handle);
        Assert.Equal(Path.Combine(native, ShimLibrary.PlatformFileName), path);
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
    }

    [Fact]
    public void Environment_variable_is_used_before_the_app_folder()
    {
        FakeShim.RequireCompiled();
        var (handle, path) = ShimLibrary.Load(null, "x", FakeShim.FakePath, "/nonexistent", searchSystemPath: false);
        Assert.Equal(FakeShim.FakePath, path);
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
    }

    [Fact]
    public void Abi_major_mismatch_is_refused_with_a_clear_message()
    {
        FakeShim.RequireCompiled();
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(FakeShim.AbiV2StubPath, "TensorRtRuntime.NativeLibraryPath", null, null, false));
        Assert.Equal(TensorRtStatus.VersionMismatch, e.Status);
        Assert.Equal("ttrt_abi_version", e.FunctionName);
        Assert.Contains($"The TypedTrt shim '{FakeShim.AbiV2StubPath}' implements C ABI 2.0, but this TypedTrt.TensorRT needs ABI 1.x with x >= 0.", e.Message, StringComparison.Ordinal);
        Assert.Contains("rebuild the shim from the native/ folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_without_the_abi_export_is_not_the_shim()
    {
        FakeShim.RequireCompiled();
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(FakeShim.NotAShimPath, "TensorRtRuntime.NativeLibraryPath", null, null, false));
        Assert.Contains("is not the TypedTrt shim (no ttrt_abi_version export)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_library_reports_the_loader_error()
    {
        string bogus = Path.Combine(FakeShim.NewTempDir("bogus"), "libtypedtrt_trt.so");
        File.WriteAllText(bogus, "not an ELF file");
        var e = Assert.Throws<TensorRtUnavailableException>(() => ShimLibrary.Load(bogus, "TensorRtRuntime.NativeLibraryPath", null, null, false));
        Assert.Contains($"{bogus} (TensorRtRuntime.NativeLibraryPath): exists but could not be loaded:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loaded_shim_cannot_be_switched_to_another_file()
    {
        FakeShim.Require();
        TensorRtRuntime.EnsureAvailable();
        Assert.Equal(FakeShim.FakePath, TensorRtRuntime.LoadedNativeLibraryPath);
        var e = Assert.Throws<InvalidOperationException>(() => TensorRtRuntime.NativeLibraryPath = FakeShim.AbiV2StubPath);
        Assert.Contains("already loaded from", e.Message, StringComparison.Ordinal);
        TensorRtRuntime.NativeLibraryPath = FakeShim.FakePath; // the same file is fine
    }

    [Fact]
    public void Available_with_the_fake_and_versions_reported()
    {
        FakeShim.Require();
        Assert.True(TensorRtInspector.IsAvailable(out string reason), reason);
        Assert.Equal("", reason);
        Assert.Equal(new Version(10, 16, 0), TensorRtRuntime.HeaderVersion);
        Assert.Equal(new Version(10, 16, 0), TensorRtRuntime.LoadedVersion);
        Assert.Equal("libnvinfer.so.10", TensorRtRuntime.LoadedTensorRtLibraryPath);
    }

    [Fact]
    public void Missing_TensorRT_library_behind_the_shim_is_unavailable_with_the_shims_text()
    {
        FakeShim.Require();
        FakeShim.FailNext("load_library", "libnvinfer.so.10: cannot open shared object file (injected)");
        Assert.False(TensorRtRuntime.IsAvailable(out string reason));
        Assert.Contains("ttrt_load_library failed: libnvinfer.so.10: cannot open shared object file (injected)", reason, StringComparison.Ordinal);
        var e = Assert.Throws<TensorRtUnavailableException>(() =>
        {
            FakeShim.FailNext("load_library", "again");
            TensorRtRuntime.EnsureAvailable();
        });
        Assert.Equal("again", e.NativeMessage);
        Assert.Equal("ttrt_load_library", e.FunctionName);
    }
}
