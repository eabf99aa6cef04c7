using System.Diagnostics;
using TypedTrt.Cli;

namespace TypedTrt.Inspection.Tests;

/// <summary>
/// <c>typedtrt inspect --out</c> never destroys what it should not (issue 10.2): not the model it reads (under any
/// name), not a FIFO or device, not a link; it never blocks on a special file given as the model; and it leaves no
/// temporary file behind. Every call runs under a timeout, so a hang fails the test instead of stalling the run.
/// Special files are made in a temporary folder: nothing outside it is touched even by a broken implementation.
/// </summary>
public sealed class OutTargetTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private readonly TempDir _dir = new();
    private readonly string _model;

    public OutTargetTests()
    {
        _model = _dir.File("m.onnx");
        File.Copy(TestPaths.Model("uint8_bool.onnx"), _model);
    }

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var task = Task.Run(() =>
        {
            using var o = new StringWriter();
            using var e = new StringWriter();
            int code = Program.Run(args, o, e);
            return (code, o.ToString(), e.ToString());
        });
        Assert.True(task.Wait(Limit), $"typedtrt {string.Join(' ', args)} did not return within {Limit.TotalSeconds} s (blocked on a special file?)");
        return task.Result;
    }

    private static void AssertRefused((int Code, string Out, string Err) r, string expected)
    {
        Assert.Equal(Program.BadInput, r.Code);
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    private void AssertNoTemporaryFiles() =>
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(_dir.Path, ".*", SearchOption.AllDirectories)));

    private string MakeFifo(string name)
    {
        string path = _dir.File(name);
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    [Fact]
    public void Out_onto_the_model_is_refused_by_name_link_and_hard_link_and_the_model_is_unchanged()
    {
        byte[] original = File.ReadAllBytes(_model);
        AssertRefused(Run("inspect", _model, "--out", _model), "is the model being inspected");

        string link = _dir.File("link.onnx");
        File.CreateSymbolicLink(link, _model);
        AssertRefused(Run("inspect", _model, "--out", link), "is the model being inspected");
        AssertRefused(Run("inspect", link, "--out", _model), "is the model being inspected");

        if (OperatingSystem.IsLinux())
        {
            string hard = _dir.File("hard.onnx");
            using (var p = Process.Start("ln", [_model, hard]))
                p.WaitForExit();
            AssertRefused(Run("inspect", hard, "--out", _model), "is the model being inspected");
        }

        Assert.Equal(original, File.ReadAllBytes(_model));
        Assert.Equal(_model, new FileInfo(link).LinkTarget);
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void Out_to_a_fifo_is_refused_without_opening_it()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "named pipes and statx: Linux");
        string fifo = MakeFifo("pipe.json");
        AssertRefused(Run("inspect", _model, "--out", fifo), "is a named pipe (FIFO)");
        string link = _dir.File("to-pipe.json");
        File.CreateSymbolicLink(link, fifo);
        AssertRefused(Run("inspect", _model, "--out", link), "is a named pipe (FIFO)");
        Assert.Equal(FileAttributes.ReparsePoint, File.GetAttributes(link) & FileAttributes.ReparsePoint);
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void A_device_as_out_is_refused_and_stays_a_device()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "devices and statx: Linux");
        // Only a link to /dev/null is passed, so even an implementation that replaced its target would replace the
        // link's target... which is why the check runs before anything: the link must still point at a device.
        string link = _dir.File("null.json");
        File.CreateSymbolicLink(link, "/dev/null");
        AssertRefused(Run("inspect", _model, "--out", link), "is a character device");
        Assert.Equal("/dev/null", new FileInfo(link).LinkTarget);
        Assert.Equal(0, RunTool("test", "-c", "/dev/null"));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void Special_files_as_the_model_are_a_one_line_error_not_a_hang()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "named pipes and devices: Linux");
        string fifo = MakeFifo("model.onnx");
        AssertRefused(Run("inspect", fifo), "is a named pipe (FIFO), not a model file");
        AssertRefused(Run("inspect", "/dev/zero"), "/dev/zero: is a character device, not a model file");
        Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect("/dev/zero"));
    }

    [Fact]
    public void Out_through_a_symlink_writes_its_target_and_keeps_the_link()
    {
        string real = _dir.File("real.bindings.json");
        string link = _dir.File("link.bindings.json");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(link, real);
        var r = Run("inspect", _model, "--out", link, "--format", "json");
        Assert.Equal(0, r.Code);
        Assert.Equal(real, new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        Assert.Equal(r.Out, File.ReadAllText(real));

        string dangling = _dir.File("dangling.json");
        string created = _dir.File("created-through-link.json");
        File.CreateSymbolicLink(dangling, created);
        Assert.Equal(0, Run("inspect", _model, "--out", dangling).Code);
        Assert.True(File.Exists(created));
        Assert.NotNull(new FileInfo(dangling).LinkTarget);
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void An_unchanged_manifest_is_left_untouched_and_a_failed_write_leaves_nothing_behind()
    {
        string manifest = _dir.File("m.bindings.json");
        Assert.Equal(0, Run("inspect", _model, "--out", manifest).Code);
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(manifest, stamp);
        Assert.Equal(0, Run("inspect", _model, "--out", manifest).Code);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(manifest));

        // A parent "folder" that is a file: the write fails with one line and creates nothing.
        string underFile = Path.Combine(manifest, "x.json");
        var r = Run("inspect", _model, "--out", underFile);
        Assert.Equal(Program.BadInput, r.Code);
        Assert.Contains("cannot write the manifest", r.Err, StringComparison.Ordinal);
        Assert.Equal(["m.bindings.json", "m.onnx"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static int RunTool(string tool, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(tool, args))!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
