using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// Packs the TypedTrt package into a local folder feed and builds a consumer project against it with <c>dotnet build</c>:
/// a checked-in <c>.bindings.json</c> sidecar, an ONNX item inspected at build time (by a stand-in inspector with the
/// real CLI's command line, until src/TypedTrt.Cli is merged), a no-op rebuild that does not re-inspect, and a
/// wrong-size constant array that fails the build with TTRT1001.
/// </summary>
public sealed class PackageEndToEndTests(ITestOutputHelper output)
{
    private static readonly string RepoRoot = TypedTrt.Tests.Shared.RepoPaths.Root;

    [Fact]
    public void ConsumerBuildsAgainstPackedPackage()
    {
        string version = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        string root = Directory.CreateTempSubdirectory("typedtrt-e2e-").FullName;
        string packages = Path.Combine(root, "packages");
        try
        {
            string feed = Path.Combine(root, "feed");
            Run(RepoRoot, ["pack", "src/TypedTrt.Build", "-c", "Release", "-o", feed, $"-p:Version={version}"]);

            // Stand-in inspector (same command line and error convention as `typedtrt inspect`).
            string fake = Path.Combine(root, "inspector");
            Directory.CreateDirectory(fake);
            File.WriteAllText(Path.Combine(fake, "typedtrt.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <OutputType>Exe</OutputType>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <UseAppHost>false</UseAppHost>
                  </PropertyGroup>
                </Project>
                """);
            File.Copy(Path.Combine(RepoRoot, "tests", "TypedTrt.EndToEnd.Tests", "Assets", "FakeInspector", "Program.cs.txt"), Path.Combine(fake, "Program.cs"));
            string fakeOut = Path.Combine(fake, "out");
            Run(fake, ["build", "-c", "Release", "-o", fakeOut]);
            string tool = Path.Combine(fakeOut, "typedtrt.dll");

            string app = Path.Combine(root, "app");
            string manifests = Path.Combine(RepoRoot, "tests", "TypedTrt.Generators.Tests", "Manifests");
            Directory.CreateDirectory(Path.Combine(app, "models", "vision"));
            File.Copy(Path.Combine(manifests, "detector.bindings.json"), Path.Combine(app, "models", "vision", "detector.bindings.json"));
            // The stand-in "inspects" a model whose bytes are a manifest.
            File.Copy(Path.Combine(manifests, "encoder.bindings.json"), Path.Combine(app, "models", "encoder.onnx"));
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{packages}" /></config>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                  <fallbackPackageFolders><add key="user" value="{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}" /></fallbackPackageFolders>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <OutputType>Exe</OutputType>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RootNamespace>Consumer.App</RootNamespace>
                    <TypedTrtToolPath>{tool}</TypedTrtToolPath>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TypedTrt" Version="{version}" />
                    <TensorRTEngine Include="models/vision/detector.bindings.json" Streams="3" />
                    <TensorRTEngine Include="models/encoder.onnx" Namespace="Consumer.Nlp" Profile="batch=1:4:16,sequence=1:128:512" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Consumer.App;
                using Consumer.Nlp;

                var detector = new DetectorInput { Images = new float[2 * Detector.Images.MaxElementCount / 32], ImagesShape = [2, 3, 224, 224] };
                var encoder = new EncoderInput
                {
                    EncoderInputIds0 = new long[8],
                    AttentionMask = new long[8],
                    Temperature = new float[1],
                    EncoderInputIds0Shape = [1, 8],
                    AttentionMaskShape = [1, 8],
                };
                Console.WriteLine($"{Detector.DefaultStreams} {detector.Images.Length} {Encoder.Pooled.Name} {encoder.Temperature.Length} {Detector.Signature.Tensors.Count}");
                """);

            Run(app, ["build"]);
            string log = Path.Combine(fakeOut, "inspect.log");
            Assert.Single(File.ReadAllLines(log));
            Assert.Contains("--profile batch=1:4:16,sequence=1:128:512", File.ReadAllText(log), StringComparison.Ordinal);
            string result = Run(app, ["run", "--no-build"]);
            Assert.Contains("3 301056 pooled 1 3", result, StringComparison.Ordinal);

            // No-op build: the inspector does not run again.
            Run(app, ["build"]);
            Assert.Single(File.ReadAllLines(log));

            // A constant array of the wrong size is a build error from the analyzer.
            File.WriteAllText(Path.Combine(app, "Bad.cs"), """
                static class Bad
                {
                    public static Consumer.Nlp.EncoderInput Make() => new()
                    {
                        EncoderInputIds0 = new long[8],
                        AttentionMask = new long[8],
                        Temperature = new float[10],
                    };
                }
                """);
            string failed = Run(app, ["build"], expectSuccess: false);
            Assert.Matches(@"Bad\.cs\(7,23\): error TTRT1001: 'EncoderInput\.Temperature' needs exactly 1 elements, but this array has 10", failed);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string Run(string directory, string[] args, bool expectSuccess = true)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        string text = stdout.ToString();
        output.WriteLine($"$ dotnet {string.Join(' ', args)}  (in {directory}) -> {p.ExitCode}");
        if ((p.ExitCode == 0) != expectSuccess)
            Assert.Fail($"dotnet {string.Join(' ', args)} exited with {p.ExitCode}:\n{text}");
        return text;
    }

}
