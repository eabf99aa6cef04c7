namespace TypedTrt.Inspection.Tests;

internal static class TestPaths
{
    public static string RepoRoot => TypedTrt.Tests.Shared.RepoPaths.Root;

    public static string Models => Path.Combine(RepoRoot, "tests", "models");

    public static string ThirdParty => Path.Combine(Models, "third-party");

    public static string Model(string name) => Path.Combine(Models, name);
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "typedtrt-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        string p = File(name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, true);
        }
        catch (IOException)
        {
        }
    }
}
