using System.Diagnostics;
using System.Globalization;

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// Issue 12.6: the libraries' AOT/trim claims, proven on a real app. The Digits sample is published with
/// <c>PublishAot=true</c> (<c>-p:DigitsAot=true</c>) for linux-x64, the native binary runs, and its output equals the JIT build's (24/24 digits).
/// Size and start-up time of both are written to the test output (a report, not an assertion).
/// </summary>
public sealed class NativeAotTests(ITestOutputHelper output)
{
    [Fact]
    public void Digits_published_with_PublishAot_prints_what_the_JIT_build_prints()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64, "the test publishes for linux-x64");
        Assert.SkipUnless(OnPath("clang"), "NativeAOT needs clang (and zlib's headers) to link: .ci/run installs Debian's clang and zlib1g-dev; install them to run this test");
        string root = PackedFeed.RepoRoot;
        string dir = Directory.CreateTempSubdirectory("typedtrt-aot-").FullName;
        try
        {
            string aot = Path.Combine(dir, "aot"), jit = Path.Combine(dir, "jit");
            var (code, log) = PackedFeed.Dotnet(root, ["publish", "samples/Digits", "-c", "Release", "-r", "linux-x64", "-p:DigitsAot=true", "-o", aot, "-m:1"]);
            Assert.True(code == 0, "AOT publish failed:\n" + log);
            Assert.DoesNotContain("warning IL", log, StringComparison.Ordinal); // no trim/AOT analysis warning anywhere
            (code, log) = PackedFeed.Dotnet(root, ["publish", "samples/Digits", "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", jit, "-m:1"]);
            Assert.True(code == 0, "JIT publish failed:\n" + log);

            string aotExe = Path.Combine(aot, "digits"), jitExe = Path.Combine(jit, "digits");
            Assert.False(File.Exists(Path.Combine(aot, "digits.dll")), "the AOT publish must be a native binary, not IL");
            var (aotCode, aotOut, aotMs) = RunTimed(aotExe, aot);
            var (jitCode, jitOut, jitMs) = RunTimed(jitExe, jit);
            Assert.Equal(0, jitCode);
            Assert.Equal(0, aotCode);
            Assert.Contains("24/24 correct", aotOut, StringComparison.Ordinal);
            Assert.Equal(jitOut, aotOut);

            long aotBytes = new FileInfo(aotExe).Length, jitDir = FolderBytes(jit), aotDir = FolderBytes(aot);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"NativeAOT digits: binary {aotBytes / 1048576.0:0.0} MiB, folder {aotDir / 1048576.0:0.0} MiB, start-to-exit median {aotMs:0} ms"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"JIT digits (framework-dependent): folder {jitDir / 1048576.0:0.0} MiB, start-to-exit median {jitMs:0} ms"));
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Runs the app 3 times; the output of the last run and the median wall time from start to exit.</summary>
    private static (int Code, string Output, double MedianMs) RunTimed(string exe, string workingDirectory)
    {
        var times = new List<double>();
        (int Code, string Log) last = (-1, "");
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            last = PackedFeed.Exec(new ProcessStartInfo(exe) { WorkingDirectory = workingDirectory });
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (last.Item1, last.Item2, times[1]);
    }

    private static long FolderBytes(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => d.Length > 0 && File.Exists(Path.Combine(d, tool)));
}
