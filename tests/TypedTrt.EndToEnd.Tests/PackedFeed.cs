using System.Diagnostics;
using System.Text;

[assembly: AssemblyFixture(typeof(TypedTrt.EndToEnd.Tests.PackedFeed))]

namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// The packages as users get them: <c>dotnet pack TypedTrt.sln</c> (the configuration these tests were built in,
/// <c>--no-build</c>: the solution is built before the tests run, as CI and <c>dotnet test</c> do) into a folder feed,
/// once for the whole test assembly, with a version of its own so nothing comes from a cache.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    private readonly Lazy<string> _packed;

    public PackedFeed()
    {
        Version = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        Root = Directory.CreateTempSubdirectory("typedtrt-e2e-").FullName;
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        _packed = new Lazy<string>(Pack);
    }

    public static string RepoRoot { get; } = TypedTrt.Tests.Shared.RepoPaths.Root;

    /// <summary>Debug or Release: the configuration of this test assembly (bin/&lt;Configuration&gt;/net10.0/).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public string Version { get; }

    public string Root { get; }

    public string Feed { get; }

    public string Packages { get; }

    /// <summary>Packs on first use and returns the log; every later call returns at once.</summary>
    public string EnsurePacked() => _packed.Value;

    /// <summary>A nuget.config for a consumer in <paramref name="directory"/>: the feed, a private packages folder, the user's cache as fallback.</summary>
    public void WriteNuGetConfig(string directory) => File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config><add key="globalPackagesFolder" value="{Packages}" /></config>
          <packageSources>
            <clear />
            <add key="local" value="{Feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
          </packageSources>
          <fallbackPackageFolders><add key="user" value="{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}" /></fallbackPackageFolders>
        </configuration>
        """);

    private string Pack()
    {
        var (code, log) = Dotnet(RepoRoot, ["pack", "TypedTrt.sln", "-c", Configuration, "--no-build", "-o", Feed, $"-p:Version={Version}", "-m:1"]);
        if (code != 0)
            Assert.Fail($"dotnet pack TypedTrt.sln -c {Configuration} --no-build failed ({code}); build the solution first (dotnet build -c {Configuration}):\n{log}");
        return log;
    }

    public static (int Code, string Log) Dotnet(string directory, string[] args, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var kv in environment ?? new Dictionary<string, string>())
            psi.Environment[kv.Key] = kv.Value;
        return Exec(psi);
    }

    public static (int Code, string Log) Exec(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var text = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        return (p.ExitCode, text.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
