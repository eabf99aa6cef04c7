using System.Diagnostics;
using System.Security;
using System.Text;
using System.Text.Json;

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// The build integration hands model paths and Profile values to the inspector without a shell (issue 10.1): a project
/// with models whose names hold <c>$( )</c>, back-quotes, <c>$VAR</c>, spaces, both quotes, semicolons, a percent
/// sign and non-ASCII letters - in a folder whose name is hostile too - runs the repository's targets with the
/// repository's inspector. Every model must be inspected under its exact name (the manifest records it), no command
/// hidden in a name may run, and the manifests must land under obj/. One MSBuild run covers every name.
/// </summary>
public sealed class HostileFileNameTests(ITestOutputHelper output)
{
    private static readonly string RepoRoot = TypedTrt.Tests.Shared.RepoPaths.Root;

    /// <summary>File names (each a copy of a small real ONNX model) and what they would do to a shell.</summary>
    private static readonly string[] Names =
    [
        "m$(touch canary-subst).onnx",          // command substitution
        "m`touch canary-backquote`.onnx",       // back-quote substitution
        "price$HOME.onnx",                      // variable expansion ($HOME -> /root)
        "with  two spaces.onnx",
        "double\"quote.onnx",
        "single'quote.onnx",
        "semi;colon; touch canary-semicolon.onnx",
        "percent%41 100%.onnx",                 // %41 must not become 'A' (MSBuild unescaping)
        "ünïcødé-模型-é.onnx",
    ];

    [Fact]
    public void Model_names_reach_the_inspector_verbatim_and_nothing_in_them_runs()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "file names with quotes and back-quotes need a Unix file system");
        string root = Directory.CreateTempSubdirectory("typedtrt-hostile-").FullName;
        try
        {
            string app = Path.Combine(root, "app");
            string models = Path.Combine(app, "models $(touch canary-dir) `x` $USER");
            Directory.CreateDirectory(models);
            string small = Path.Combine(RepoRoot, "tests", "models", "uint8_bool.onnx");
            var items = new StringBuilder();
            for (int i = 0; i < Names.Length; i++)
            {
                File.Copy(small, Path.Combine(models, Names[i]));
                items.Append($"    <TensorRTEngine Include=\"{Attr(Escape(Path.Combine(models, Names[i])))}\" ClassName=\"M{i}\" />\n");
            }

            // A dynamic model with a Profile, under a hostile name: the Profile value is passed through as well.
            const string digitsName = "digits $(touch canary-profile) ;`id`.onnx";
            File.Copy(Path.Combine(RepoRoot, "samples", "Digits", "model", "digits.onnx"), Path.Combine(models, digitsName));
            items.Append($"    <TensorRTEngine Include=\"{Attr(Escape(Path.Combine(models, digitsName)))}\" ClassName=\"Digits\" Profile=\"batch=1..32:8\" />\n");

            string targets = Path.Combine(RepoRoot, "src", "TypedTrt.Build", "buildTransitive");
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <Import Project="{Attr(Path.Combine(targets, "TypedTrt.props"))}" />
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <TypedTrtToolPath>{SecurityElement.Escape(Escape(InspectorPath()))}</TypedTrtToolPath>
                  </PropertyGroup>
                  <ItemGroup>
                {items}  </ItemGroup>
                  <Import Project="{Attr(Path.Combine(targets, "TypedTrt.targets"))}" />
                </Project>
                """);

            string log = Run(app, ["msbuild", "App.csproj", "-restore", "-t:TypedTrtInspectModels", "-nologo", "-v:n"]);
            Assert.Empty(Directory.GetFiles(root, "canary*", SearchOption.AllDirectories));
            Assert.False(Directory.Exists(Path.Combine(app, "typedtrt")), "manifests must go under obj/, not the project folder");

            string[] manifests = Directory.GetFiles(Path.Combine(app, "obj"), "*.bindings.json", SearchOption.AllDirectories);
            foreach (string name in Names.Append(digitsName))
            {
                string expected = Path.GetFileNameWithoutExtension(name) + ".bindings.json";
                string? manifest = manifests.SingleOrDefault(m => Path.GetFileName(m) == expected);
                Assert.True(manifest is not null, $"no manifest {expected} for model '{name}'; found: {string.Join(", ", manifests.Select(Path.GetFileName))}\n{log}");
                using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
                Assert.Equal(name, doc.RootElement.GetProperty("source").GetProperty("file").GetString());
                Assert.StartsWith(Path.Combine(app, "obj") + Path.DirectorySeparatorChar, manifest, StringComparison.Ordinal);
            }

            string digits = File.ReadAllText(manifests.Single(m => Path.GetFileName(m).StartsWith("digits ", StringComparison.Ordinal)));
            Assert.Contains("\"max\": [32, 1, 8, 8]", digits, StringComparison.Ordinal);
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

    /// <summary>The inspector built next to this test (the project references TypedTrt.Cli), same configuration.</summary>
    private static string InspectorPath()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        string path = Path.Combine(RepoRoot, "src", "TypedTrt.Cli", "bin", configuration, "net10.0", "typedtrt.dll");
        Assert.True(File.Exists(path), $"the inspector is not built at {path}");
        return path;
    }

    /// <summary>MSBuild's escaping for an item Include or property value: every special character as %XX.</summary>
    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            if (c is '%' or '$' or '@' or '\'' or ';' or '?' or '*' or '(' or ')' or '"')
                sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }

        return sb.ToString();
    }

    private static string Attr(string s) => SecurityElement.Escape(s);

    private string Run(string directory, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var text = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        string log = text.ToString();
        output.WriteLine($"$ dotnet {string.Join(' ', args)} -> {p.ExitCode}");
        output.WriteLine(log);
        Assert.True(p.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {p.ExitCode}:\n{log}");
        return log;
    }
}
