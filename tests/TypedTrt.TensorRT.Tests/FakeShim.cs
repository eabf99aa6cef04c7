using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using TypedTrt.TensorRT;

namespace TypedTrt.TensorRT.Tests;

/// <summary>
/// Compiles native/fake/fake_shim.c (and the small stub libraries) with the system C compiler once per test run,
/// points TypedTrt.TensorRT at the fake, and exposes the fake's ttrt_fake_* test controls. The fake keeps
/// process-wide state, so the assembly runs its tests one at a time and every test starts with Reset().
/// </summary>
internal static unsafe class FakeShim
{
    private static readonly Lazy<(string? Dir, string? Error)> Built = new(Build);
    private static readonly Lazy<string> Root = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), "typedtrt-tensorrt-tests-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true); // loaded .so files may be unlinked on Linux
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return root;
    });

    private static nint s_handle;

    /// <summary>A new empty folder under this test run's temp folder (deleted when the process exits).</summary>
    internal static string NewTempDir(string prefix)
    {
        string dir = Path.Combine(Root.Value, prefix + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    internal static string Dir => Built.Value.Dir!;

    internal static string FakePath => Path.Combine(Dir, "libtypedtrt_fake.so");

    internal static string AbiV2StubPath => Path.Combine(Dir, "libabi_v2_stub.so");

    internal static string NotAShimPath => Path.Combine(Dir, "libnot_a_shim.so");

    /// <summary>Skips the test (visibly) when the fake cannot be built here; otherwise loads it and resets its state.</summary>
    internal static void Require()
    {
        RequireCompiled();
        if (s_handle == 0)
        {
            TensorRtRuntime.NativeLibraryPath = FakePath;
            s_handle = NativeLibrary.Load(FakePath); // the same file the resolver loads: one copy, one state
        }

        Interop.ShimLibrary.EnsureLoaded(); // so a logger set by a test is installed at once

        Reset();
    }

    /// <summary>Skips unless the native test libraries were compiled (does not load anything).</summary>
    internal static void RequireCompiled()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("The fake of the TensorRT shim is built with cc on Linux only; these contract tests need it.");
        if (Built.Value.Error is { } error)
            Assert.Skip("The fake of the TensorRT shim could not be built, so the contract tests are skipped: " + error);
    }

    private static (string?, string?) Build()
    {
        string src = Path.Combine(AppContext.BaseDirectory, "native");
        string dir = NewTempDir("native");
        foreach (var (source, output) in new[] { ("fake_shim.c", "libtypedtrt_fake.so"), ("abi_v2_stub.c", "libabi_v2_stub.so"), ("not_a_shim.c", "libnot_a_shim.so") })
        {
            string? error = Compile(Path.Combine(src, source), Path.Combine(dir, output), src);
            if (error is not null)
                return (null, error);
        }

        return (dir, null);
    }

    private static string? Compile(string source, string output, string include)
    {
        var psi = new ProcessStartInfo("cc") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "-shared", "-fPIC", "-O1", "-o", output, source, "-I" + include })
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string stderr = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"'cc ... {Path.GetFileName(source)}' exited with {p.ExitCode}: {stderr}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"no C compiler 'cc' on PATH ({e.Message}); install gcc or clang to run them";
        }
    }

    private static nint Export(string name) => NativeLibrary.GetExport(s_handle, name);

    internal static void Reset() => Check(((delegate* unmanaged[Cdecl]<int>)Export("ttrt_fake_reset"))());

    internal static string CallLog()
    {
        var fn = (delegate* unmanaged[Cdecl]<byte*, int, int*, int>)Export("ttrt_fake_call_log");
        int len = 0;
        Check(fn(null, 0, &len));
        var buf = new byte[len + 1];
        fixed (byte* p = buf)
            Check(fn(p, buf.Length, &len));
        return Encoding.UTF8.GetString(buf, 0, len);
    }

    internal static void FailNext(string function, string message)
    {
        var fn = (delegate* unmanaged[Cdecl]<byte*, byte*, int>)Export("ttrt_fake_fail_next");
        fixed (byte* f = Utf8Z(function))
        fixed (byte* m = Utf8Z(message))
            Check(fn(f, m));
    }

    /// <summary>Makes output 'counts' data-dependent (see typedtrt_fake.h): its length varies per request, sized through an output allocator.</summary>
    internal static void SetDataDependentCounts(bool on) => Check(((delegate* unmanaged[Cdecl]<int, int>)Export("ttrt_fake_set_data_dependent_counts"))(on ? 1 : 0));

    internal static void SetLoadedVersion(int version) => Check(((delegate* unmanaged[Cdecl]<int, int>)Export("ttrt_fake_set_loaded_version"))(version));

    internal static void EmitLog(int severity, string message)
    {
        fixed (byte* m = Utf8Z(message))
            Check(((delegate* unmanaged[Cdecl]<int, byte*, int>)Export("ttrt_fake_emit_log"))(severity, m));
    }

    internal static (int Runtimes, int Engines, int Contexts) LiveHandles()
    {
        int r = 0, e = 0, c = 0;
        Check(((delegate* unmanaged[Cdecl]<int*, int*, int*, int>)Export("ttrt_fake_live_handles"))(&r, &e, &c));
        return (r, e, c);
    }

    private static byte[] Utf8Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    private static void Check(int status)
    {
        if (status != 0)
            throw new InvalidOperationException($"fake test control failed with status {status}");
    }

    /// <summary>Bytes of a fake plan: the magic "ftrt", TensorRT version at bytes 24..27, some payload.</summary>
    internal static byte[] Plan(byte major = 10, byte minor = 16, byte patch = 0, byte build = 7)
    {
        var b = new byte[64];
        "ftrt"u8.CopyTo(b);
        b[24] = major;
        b[25] = minor;
        b[26] = patch;
        b[27] = build;
        for (int i = 28; i < b.Length; i++)
            b[i] = (byte)i;
        return b;
    }

    /// <summary>An Ultralytics engine file: [uint32 LE length][JSON] then the plan.</summary>
    internal static byte[] UltralyticsFile(string json, byte[] plan)
    {
        byte[] j = Encoding.UTF8.GetBytes(json);
        var b = new byte[4 + j.Length + plan.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)j.Length);
        j.CopyTo(b, 4);
        plan.CopyTo(b, 4 + j.Length);
        return b;
    }

    internal static string WriteTemp(byte[] bytes, string name = "model.engine")
    {
        string dir = NewTempDir("engine");
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
