using System.IO.Compression;
using System.Text.RegularExpressions;

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// Issue 12.3 and 12.4: <c>dotnet pack</c> of the solution makes exactly the packages README.md lists, no assembly is in
/// two packages' lib/ or analyzers/, TypedTrt.TensorRT carries the prebuilt shims, and a linux-x64 publish of a
/// consumer of TypedTrt.TensorRT finds and loads the prebuilt shim (so availability reports the missing TensorRT
/// library, not a missing shim).
/// </summary>
public sealed partial class PackageSetTests(ITestOutputHelper output, PackedFeed packed)
{
    [GeneratedRegex(@"^\| `(?<id>TypedTrt[A-Za-z0-9.]*)` \|", RegexOptions.Multiline)]
    private static partial Regex PackageRow();

    /// <summary>The package ids in README.md's table between the packages markers.</summary>
    private static string[] ReadmePackages()
    {
        string readme = File.ReadAllText(Path.Combine(PackedFeed.RepoRoot, "README.md"));
        int start = readme.IndexOf("<!-- packages:", StringComparison.Ordinal), end = readme.IndexOf("<!-- /packages -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no <!-- packages: --> ... <!-- /packages --> table");
        return [.. PackageRow().Matches(readme[start..end]).Select(m => m.Groups["id"].Value).Order(StringComparer.Ordinal)];
    }

    private Dictionary<string, string> PackedPackages()
    {
        output.WriteLine(packed.EnsurePacked().Split('\n').Where(l => l.Contains("Successfully created", StringComparison.Ordinal) || l.Contains("warning", StringComparison.Ordinal)).Aggregate("", (a, l) => a + l + "\n"));
        string suffix = "." + packed.Version + ".nupkg";
        return Directory.GetFiles(packed.Feed, "*.nupkg")
            .Where(f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f)[..^suffix.Length], f => f, StringComparer.Ordinal);
    }

    [Fact]
    public void Solution_pack_makes_exactly_the_README_package_set_with_no_assembly_in_two_packages()
    {
        var packages = PackedPackages();
        Assert.Equal(ReadmePackages(), packages.Keys.Order(StringComparer.Ordinal));

        var owners = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var entries = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (id, file) in packages)
        {
            using var zip = ZipFile.OpenRead(file);
            entries[id] = [.. zip.Entries.Select(e => e.FullName)];
            foreach (string e in entries[id].Where(e => (e.StartsWith("lib/", StringComparison.Ordinal) || e.StartsWith("analyzers/", StringComparison.Ordinal) || e.StartsWith("ref/", StringComparison.Ordinal)) && e.EndsWith(".dll", StringComparison.Ordinal)))
            {
                string name = Path.GetFileName(e);
                if (!owners.TryGetValue(name, out var list))
                    owners[name] = list = [];
                list.Add(id);
            }
        }

        var twice = owners.Where(kv => kv.Value.Count > 1).Select(kv => $"{kv.Key} in {string.Join(" and ", kv.Value)}").ToArray();
        Assert.True(twice.Length == 0, "assemblies shipped in two packages: " + string.Join("; ", twice));

        Assert.DoesNotContain(entries["TypedTrt"], e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.Ordinal));
        Assert.Contains("analyzers/dotnet/cs/TypedTrt.Generators.dll", entries["TypedTrt"]);
        Assert.Contains("buildTransitive/TypedTrt.targets", entries["TypedTrt"]);
        Assert.Contains("tools/net10.0/any/typedtrt.dll", entries["TypedTrt"]);
        Assert.Contains("runtimes/linux-x64/native/libtypedtrt_trt10.so", entries["TypedTrt.TensorRT"]);
        Assert.Contains("runtimes/linux-x64/native/libtypedtrt_trt11.so", entries["TypedTrt.TensorRT"]);
        Assert.Contains("lib/net10.0/TypedTrt.Runtime.dll", entries["TypedTrt.Runtime"]);
    }

    [Fact]
    public void Linux_x64_publish_with_TypedTrt_TensorRT_finds_and_loads_the_prebuilt_shim()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64, "the prebuilt shims are linux-x64");
        packed.EnsurePacked();
        string app = Directory.CreateTempSubdirectory("typedtrt-e2e-trt-").FullName;
        try
        {
            packed.WriteNuGetConfig(app);
            File.WriteAllText(Path.Combine(app, "TrtApp.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <OutputType>Exe</OutputType>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TypedTrt" Version="{packed.Version}" />
                    <PackageReference Include="TypedTrt.TensorRT" Version="{packed.Version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using TypedTrt.TensorRT;
                bool ok = TensorRtRuntime.IsAvailable(out string reason);
                Console.WriteLine($"available: {ok}");
                Console.WriteLine($"shim: {TensorRtRuntime.LoadedNativeLibraryPath}");
                Console.WriteLine($"selection: {TensorRtRuntime.NativeLibrarySelection}");
                Console.WriteLine($"reason: {reason.ReplaceLineEndings(" | ")}");
                """);
            string publish = Path.Combine(app, "out");
            var (code, log) = PackedFeed.Dotnet(app, ["publish", "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", publish]);
            Assert.True(code == 0, log);
            var (runCode, result) = PackedFeed.Exec(new System.Diagnostics.ProcessStartInfo(Path.Combine(publish, "TrtApp")) { WorkingDirectory = publish });
            output.WriteLine(result);
            Assert.Equal(0, runCode);
            // The shim was found in the publish folder (runtimes/ flattened into it) and loaded.
            Assert.Contains($"shim: {Path.Combine(publish, "libtypedtrt_trt")}", result, StringComparison.Ordinal);
            if (result.Contains("available: False", StringComparison.Ordinal))
            {
                // No TensorRT here: the error is about TensorRT, never about a missing shim.
                Assert.Contains("selection: the prebuilt shim for TensorRT 10 (neither libnvinfer.so.11 nor libnvinfer.so.10 was found", result, StringComparison.Ordinal);
                Assert.Contains("The TypedTrt shim was found, but the TensorRT runtime library it needs was not", result, StringComparison.Ordinal);
                Assert.Contains("libnvinfer.so.10", result, StringComparison.Ordinal);
                Assert.DoesNotContain("shim (libtypedtrt_trt.so) was not found", result, StringComparison.Ordinal);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(app, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
