namespace TypedTrt.EndToEnd.Tests;

/// <summary>
/// Issue 12.5: building the Digits sample leaves the source tree clean. A copy of the repository (its tracked and
/// not-ignored files) becomes a fresh git repository; after <c>dotnet build samples/Digits</c> there,
/// <c>git status</c> must show nothing: every file the build wrote is under a git-ignored folder (bin/, obj/).
/// </summary>
public sealed class CleanTreeTests(ITestOutputHelper output)
{
    [Fact]
    public void Building_the_sample_from_a_copy_of_the_repository_creates_no_file_outside_ignored_folders()
    {
        string root = PackedFeed.RepoRoot;
        var (lsCode, files) = PackedFeed.Exec(new System.Diagnostics.ProcessStartInfo("git", ["-C", root, "ls-files", "--cached", "--others", "--exclude-standard"]));
        Assert.SkipWhen(lsCode != 0, "not a git checkout (git ls-files failed): " + files);
        string copy = Directory.CreateTempSubdirectory("typedtrt-clean-").FullName;
        try
        {
            foreach (string rel in files.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string from = Path.Combine(root, rel);
                if (!File.Exists(from))
                    continue; // deleted in the working tree
                string to = Path.Combine(copy, rel);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(from, to);
            }

            Git(copy, "init", "-q");
            Git(copy, "add", "-A");
            Git(copy, "-c", "user.email=ci@typedtrt.invalid", "-c", "user.name=ci", "commit", "-q", "-m", "copy");
            Assert.Empty(Git(copy, "status", "--porcelain").Trim());

            var (code, log) = PackedFeed.Dotnet(copy, ["build", "samples/Digits", "-m:1"]);
            Assert.True(code == 0, log);

            string status = Git(copy, "status", "--porcelain", "--untracked-files=all").Trim();
            output.WriteLine(status);
            Assert.True(status.Length == 0, "building samples/Digits changed or created files outside git-ignored folders:\n" + status);
        }
        finally
        {
            try
            {
                Directory.Delete(copy, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Git(string directory, params string[] args)
    {
        var (code, text) = PackedFeed.Exec(new System.Diagnostics.ProcessStartInfo("git", ["-C", directory, .. args]));
        Assert.True(code == 0, $"git {string.Join(' ', args)}: {text}");
        return text;
    }
}
