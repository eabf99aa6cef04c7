namespace TypedTrt.Tests.Shared;

/// <summary>
/// Locates the repository from the test's output folder. (Not from [CallerFilePath]: CI builds map source paths to
/// "/_/" for deterministic binaries, so compile-time paths do not exist at run time.)
/// </summary>
internal static class RepoPaths
{
    /// <summary>The folder holding TypedTrt.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the repository root.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "TypedTrt.sln")))
                return d.FullName;
        }

        throw new InvalidOperationException("TypedTrt.sln not found above " + AppContext.BaseDirectory);
    }
}
