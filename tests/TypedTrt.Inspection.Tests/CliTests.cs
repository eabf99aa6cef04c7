using System.Diagnostics;
using TypedTrt.Cli;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertOneLineError((int Code, string Out, string Err) r, string file, string expected)
    {
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Out);
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"typedtrt: {file}: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_sidecar_on_an_onnx_model_or_without_tensorrt_is_a_one_line_error()
    {
        string dir = Directory.CreateTempSubdirectory("ttrt-cli-").FullName;
        string onnx = Path.Combine(dir, "m.onnx");
        File.Copy(TestPaths.Model("multi_io.onnx"), onnx);
        AssertOneLineError(Run("inspect", onnx, "--write-sidecar"), onnx, "--write-sidecar applies to TensorRT engines");

        string engine = Path.Combine(dir, "d.engine");
        File.WriteAllBytes(engine, PlanTests.Plan());
        AssertOneLineError(Run("inspect", engine, "--write-sidecar"), engine, "--write-sidecar needs TensorRT and the TypedTrt shim on this machine");
        Assert.False(File.Exists(engine + ".bindings.json"));
    }

    [Fact]
    public void Table_shows_header_dims_with_names_scalars_and_aligned_columns()
    {
        string model = TestPaths.Model("multi_io.onnx");
        var (code, output, err) = Run("inspect", model);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        string[] lines = output.Split('\n');
        Assert.StartsWith($"onnx model | {model} | 1663 bytes | producer pytorch 2.11.0 | ir 8 | opset ai.onnx=17 | 0 profiles", lines[0], StringComparison.Ordinal);
        string header = lines.Single(l => l.StartsWith("NAME", StringComparison.Ordinal));
        string images = lines.Single(l => l.StartsWith("images/rgb:0", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("DTYPE", StringComparison.Ordinal), images.IndexOf("float", StringComparison.Ordinal));
        Assert.EndsWith("[batch=-1, 3, height=-1, width=-1]", images, StringComparison.Ordinal);
        Assert.EndsWith("[batch=-1, -1, 6]", lines.Single(l => l.StartsWith("extra/feat.v1:0", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith("[] (scalar)", lines.Single(l => l.StartsWith("scale.factor", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("total:sum", StringComparison.Ordinal) && l.Contains("output", StringComparison.Ordinal));
    }

    [Fact]
    public void Table_marks_unsupported_dtypes_and_shows_metadata()
    {
        var (code, output, _) = Run("inspect", TestPaths.Model("double_int32.onnx"));
        Assert.Equal(0, code);
        Assert.Contains("double (unsupported)", output, StringComparison.Ordinal);
        Assert.Contains("TensorRT cannot bind 'x', 'y'", output, StringComparison.Ordinal);
        (code, output, _) = Run("inspect", TestPaths.Model("fp16_io.onnx"));
        Assert.Contains("metadata: author=typedtrt-tests, task=fp16 linear", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_lists_profiles_and_inputs_left_out_of_them()
    {
        var (code, output, _) = Run("inspect", TestPaths.Model("multi_io.onnx"), "--profile", "batch=1..8:4", "--profile", "height=32..64:64,width=32..64:64");
        Assert.Equal(0, code);
        Assert.Contains("| 1 profile", output, StringComparison.Ordinal);
        Assert.Contains("  images/rgb:0: min [1, 3, 32, 32] opt [4, 3, 64, 64] max [8, 3, 64, 64]", output, StringComparison.Ordinal);
        Assert.Contains("'extra/feat.v1:0' are in no profile", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_prints_the_manifest_and_out_writes_the_same_bytes_deterministically()
    {
        using var dir = new TempDir();
        string model = TestPaths.Model("int64_io.onnx");
        var (code, json, _) = Run("inspect", model, "--format", "json");
        Assert.Equal(0, code);
        Assert.Equal(ManifestSerializer.SerializeToString(ModelInspector.Inspect(model)), json);
        Assert.Equal("input_ids", ManifestSerializer.Deserialize(json).Tensors[0].Name);

        string out1 = dir.File("a.json"), out2 = dir.File("b.json");
        Assert.Equal(0, Run("inspect", model, "--out", out1).Code);
        Assert.Equal(0, Run("inspect", model, "--format=json", "--out", out2).Code);
        Assert.Equal(File.ReadAllBytes(out1), File.ReadAllBytes(out2));
        Assert.Equal(json, File.ReadAllText(out1));
    }

    [Fact]
    public void Bad_inputs_exit_2_with_one_line_naming_the_file()
    {
        using var dir = new TempDir();
        string missing = dir.File("missing.onnx");
        AssertOneLineError(Run("inspect", missing), missing, "file not found");
        AssertOneLineError(Run("inspect", dir.Path), dir.Path, "is a directory");
        string empty = dir.Write("empty.onnx", []);
        AssertOneLineError(Run("inspect", empty), empty, "empty");
        byte[] model = File.ReadAllBytes(TestPaths.Model("multi_io.onnx"));
        string truncated = dir.Write("trunc.onnx", model[..700]);
        AssertOneLineError(Run("inspect", truncated), truncated, "truncated");
        var rng = new Random(7);
        byte[] noise = new byte[4096];
        rng.NextBytes(noise);
        string random = dir.Write("noise.onnx", noise);
        AssertOneLineError(Run("inspect", random), random, "not a valid ONNX model");
        string text = dir.Write("notes.onnx", "hello\nworld\n"u8.ToArray());
        AssertOneLineError(Run("inspect", text), text, "text file");
        string png = dir.Write("cat.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        AssertOneLineError(Run("inspect", png), png, "PNG image");
        string small = dir.Write("small.engine", PlanTests.Plan()[..16]);
        AssertOneLineError(Run("inspect", small), small, "too small");
        string old = dir.Write("old.engine", PlanTests.Plan(5, 0));
        AssertOneLineError(Run("inspect", old), old, "does not read");
        string engine = dir.Write("det.engine", PlanTests.Plan());
        AssertOneLineError(Run("inspect", engine), engine, "no sidecar manifest");
        ManifestSerializer.WriteFileIfChanged(PlanTests.SidecarFor(engine, new string('1', 64)), ModelInspector.SidecarPath(engine));
        AssertOneLineError(Run("inspect", engine), engine, "stale");
        File.WriteAllText(ModelInspector.SidecarPath(engine), ManifestSerializer.SerializeToString(PlanTests.SidecarFor(engine)).Replace("/v1", "/v2", StringComparison.Ordinal));
        AssertOneLineError(Run("inspect", engine), ModelInspector.SidecarPath(engine), "unsupported sidecar manifest version");
        string model2 = TestPaths.Model("int64_io.onnx");
        AssertOneLineError(Run("inspect", model2, "--profile", "nope=1..2"), model2, "'nope'");
        string unwritable = Path.Combine(dir.Path, "no", "such", "dir") + "/x.json";
        File.WriteAllText(dir.File("no"), "a file where a folder is needed");
        AssertOneLineError(Run("inspect", model2, "--out", unwritable), unwritable, "cannot write");
    }

    [Fact]
    public void Engine_with_sidecar_prints_its_tensorrt_version()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", PlanTests.Plan());
        ManifestSerializer.WriteFileIfChanged(PlanTests.SidecarFor(engine), ModelInspector.SidecarPath(engine));
        var (code, output, _) = Run("inspect", engine);
        Assert.Equal(0, code);
        Assert.StartsWith($"tensorrt engine | {engine} |", output, StringComparison.Ordinal);
        Assert.Contains("tensorrt 10.3.0.26 | 1 profile", output, StringComparison.Ordinal);
        Assert.Contains("[batch=-1, 3, 640, 640]", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "inspect" }, "inspect needs a model file")]
    [InlineData(new[] { "inspect", "a.onnx", "--format", "xml" }, "--format must be 'table' or 'json'")]
    [InlineData(new[] { "inspect", "a.onnx", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "inspect", "a.onnx", "--out" }, "--out needs a value")]
    [InlineData(new[] { "inspect", "a.onnx", "b.onnx" }, "one model at a time")]
    public void Usage_errors_exit_2_with_usage(string[] args, string expected)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Contains("Usage: typedtrt inspect <model>", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_profile_is_one_line()
    {
        var (code, _, err) = Run("inspect", TestPaths.Model("int64_io.onnx"), "--profile", "batch=9..1");
        Assert.Equal(2, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("typedtrt: --profile 'batch=9..1'", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_exits_0()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("--profile", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Real_process_exits_2_with_one_line_and_no_stack_trace()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "typedtrt.dll");
        Assert.True(File.Exists(dll), dll);
        string missing = Path.Combine(Path.GetTempPath(), "definitely-missing.onnx");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "inspect", missing })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Equal("", stdout);
        Assert.Equal($"typedtrt: {missing}: file not found.\n", stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
