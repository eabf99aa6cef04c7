using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT.Tests;

/// <summary>
/// The prebuilt shims committed under native/prebuilt/linux-x64 (issue 12.2): each loads here without TensorRT
/// (libnvinfer is opened lazily), implements this assembly's ABI, was built against the TensorRT major its name says,
/// and reports the SHA-256 of exactly the shim sources in this tree. After any change to native/include/typedtrt_shim.h
/// or native/src/, these tests fail until the binaries are rebuilt (native/prebuilt/README.md says how).
/// </summary>
public sealed unsafe class PrebuiltShimTests
{
    private static readonly string Prebuilt = TypedTrt.Tests.Shared.RepoPaths.Combine("native", "prebuilt", "linux-x64");

    public static TheoryData<int> Majors => [.. ShimLibrary.PrebuiltMajors];

    /// <summary>The tree's shim source hash, by the rule of native/source-hash.sh.</summary>
    internal static string TreeSourceHash()
    {
        string native = TypedTrt.Tests.Shared.RepoPaths.Combine("native");
        var files = Directory.GetFiles(Path.Combine(native, "src"), "*", SearchOption.AllDirectories)
            .Append(Path.Combine(native, "include", "typedtrt_shim.h"))
            .Select(f => Path.GetRelativePath(native, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        var listing = new StringBuilder();
        foreach (string rel in files)
            listing.Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(native, rel))))).Append("  ").Append(rel).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
    }

    private static JsonElement ManifestEntry(int major)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Prebuilt, "manifest.json")));
        var root = doc.RootElement.Clone();
        return root.GetProperty("shims").EnumerateArray().Single(s => s.GetProperty("tensorRtMajor").GetInt32() == major);
    }

    [Fact]
    public void Manifest_records_the_sources_of_this_tree()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Prebuilt, "manifest.json")));
        string recorded = doc.RootElement.GetProperty("sourceSha256").GetString()!;
        Assert.True(recorded == TreeSourceHash(),
            $"native/prebuilt/linux-x64 was built from shim sources with SHA-256 {recorded}, but the sources in this tree hash to {TreeSourceHash()} " +
            "(native/source-hash.sh): the prebuilt shims are stale. Rebuild them with native/build-prebuilt.sh on the GPU machine (native/prebuilt/README.md).");
        foreach (string key in new[] { "compiler", "flags", "builtOn" })
            Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty(key).GetString()), key);
        Assert.Equal(ShimLibrary.PrebuiltMajors.Order(), doc.RootElement.GetProperty("shims").EnumerateArray().Select(s => s.GetProperty("tensorRtMajor").GetInt32()).Order());
    }

    [Theory]
    [MemberData(nameof(Majors))]
    public void Committed_binary_loads_without_TensorRT_and_reports_the_tree_source_hash(int major)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64, "the prebuilt shims are linux-x64 binaries");
        string file = Path.Combine(Prebuilt, ShimLibrary.PrebuiltFileName(major));
        var entry = ManifestEntry(major);
        Assert.Equal(Path.GetFileName(file), entry.GetProperty("file").GetString());
        Assert.Equal(entry.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));

        nint h = NativeLibrary.Load(file); // never unloaded: other tests may run in this process
        int abi = ((delegate* unmanaged[Cdecl]<int>)NativeLibrary.GetExport(h, "ttrt_abi_version"))();
        Assert.Equal(ShimLibrary.ExpectedAbiMajor, abi >> 16);
        Assert.True((abi & 0xFFFF) >= ShimLibrary.ExpectedAbiMinor, $"ABI minor {abi & 0xFFFF}");

        string hash = GetString(h, "ttrt_source_hash");
        Assert.True(hash == TreeSourceHash(),
            $"{file} reports shim source hash {hash}, but this tree's shim sources hash to {TreeSourceHash()}: the binary is stale or was built from " +
            "other sources. Rebuild with native/build-prebuilt.sh (native/prebuilt/README.md).");

        int header = 0, loaded = -1;
        Assert.Equal(0, ((delegate* unmanaged[Cdecl]<int*, int*, int>)NativeLibrary.GetExport(h, "ttrt_versions"))(&header, &loaded));
        Assert.Equal(major, header / 10000);
        Assert.Equal(entry.GetProperty("headerVersion").GetString(), TensorRtRuntime.Decode(header).ToString(3));
        Assert.Equal(0, loaded);

        // libnvinfer is opened only now: without TensorRT this is a clean, specific failure, not a load error.
        if (!NativeLibrary.TryLoad($"libnvinfer.so.{major}", out _))
        {
            int status = ((delegate* unmanaged[Cdecl]<byte*, int>)NativeLibrary.GetExport(h, "ttrt_load_library"))(null);
            Assert.Equal(6, status); // TTRT_E_LIBRARY_NOT_FOUND
            Assert.Contains($"libnvinfer.so.{major}", GetString(h, "ttrt_last_error"), StringComparison.Ordinal);
        }
    }

    private static string GetString(nint h, string function)
    {
        var fn = (delegate* unmanaged[Cdecl]<byte*, int, int*, int>)NativeLibrary.GetExport(h, function);
        byte* buf = stackalloc byte[4096];
        int len = 0;
        Assert.Equal(0, fn(buf, 4096, &len));
        return Encoding.UTF8.GetString(buf, len);
    }

    [Fact]
    public void The_prebuilt_shim_for_the_installed_major_is_picked_and_the_choice_is_explained()
    {
        FakeShim.RequireCompiled();
        string app = FakeShim.NewTempDir("prebuilt-app");
        string native = Path.Combine(app, "runtimes", "linux-x64", "native");
        Directory.CreateDirectory(native);
        foreach (int major in ShimLibrary.PrebuiltMajors)
            File.Copy(FakeShim.FakePath, Path.Combine(native, ShimLibrary.PrebuiltFileName(major)));

        var (_, path11, why11) = ShimLibrary.LoadWithSelection(null, "x", null, app, false, () => (11, "libnvinfer.so.11 was found"));
        Assert.Equal(Path.Combine(native, ShimLibrary.PrebuiltFileName(11)), path11);
        Assert.StartsWith("the prebuilt shim for TensorRT 11 (libnvinfer.so.11 was found): ", why11, StringComparison.Ordinal);

        var (_, path10, why10) = ShimLibrary.LoadWithSelection(null, "x", null, app, false, () => (10, "libnvinfer.so.10 was found"));
        Assert.Equal(Path.Combine(native, ShimLibrary.PrebuiltFileName(10)), path10);
        Assert.Contains("TensorRT 10", why10, StringComparison.Ordinal);

        // Nothing installed: still a shim (the oldest major), so using it reports the missing TensorRT, not a missing shim.
        var (_, pathNone, whyNone) = ShimLibrary.LoadWithSelection(null, "x", null, app, false, () => (null, "neither libnvinfer.so.11 nor libnvinfer.so.10 was found"));
        Assert.Equal(path10, pathNone);
        Assert.Contains("neither libnvinfer.so.11 nor libnvinfer.so.10 was found", whyNone, StringComparison.Ordinal);

        // A RID-specific publish flattens runtimes/ into the application folder.
        string flat = FakeShim.NewTempDir("prebuilt-flat");
        File.Copy(FakeShim.FakePath, Path.Combine(flat, ShimLibrary.PrebuiltFileName(11)));
        Assert.Equal(Path.Combine(flat, ShimLibrary.PrebuiltFileName(11)), ShimLibrary.LoadWithSelection(null, "x", null, flat, false, () => (null, "none")).Path);

        // A shim built from source (libtypedtrt_trt.so) wins over the prebuilt ones.
        File.Copy(FakeShim.FakePath, Path.Combine(app, ShimLibrary.PlatformFileName));
        var (_, own, whyOwn) = ShimLibrary.LoadWithSelection(null, "x", null, app, false, () => throw new InvalidOperationException("not probed"));
        Assert.Equal(Path.Combine(app, ShimLibrary.PlatformFileName), own);
        Assert.StartsWith("a shim built from source", whyOwn, StringComparison.Ordinal);
    }
}
