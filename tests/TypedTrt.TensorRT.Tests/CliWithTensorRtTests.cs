using TypedTrt.Manifest;

namespace TypedTrt.TensorRT.Tests;

/// <summary>The typedtrt CLI reading engines through the (fake) TensorRT shim: --write-sidecar, sidecar precedence, stale sidecars.</summary>
public sealed class CliWithTensorRtTests : IDisposable
{
    public CliWithTensorRtTests() => FakeShim.Require();

    public void Dispose() => Assert.Equal((0, 0, 0), FakeShim.LiveHandles());

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int code = TypedTrt.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Write_sidecar_reads_the_engine_with_tensorrt_and_later_inspections_use_the_sidecar()
    {
        string engine = FakeShim.WriteTemp(FakeShim.Plan(), "detector.engine");
        var (code, json, err) = Run("inspect", engine, "--write-sidecar", "--format", "json");
        Assert.Equal(0, code);
        Assert.Contains($"wrote {engine}.bindings.json", err, StringComparison.Ordinal);
        var manifest = ManifestSerializer.Deserialize(json);
        Assert.Equal(ModelKind.TensorRTEngine, manifest.Source.Kind);
        Assert.Equal(["images", "offset", "scores", "counts"], manifest.Tensors.Select(t => t.Name));
        Assert.Equal(2, manifest.Profiles.Count);
        Assert.Equal(File.ReadAllText(engine + ".bindings.json"), json);

        // With the sidecar present it wins (no TensorRT call), and the table shows the engine's tensors.
        FakeShim.Reset();
        var (code2, table, _) = Run("inspect", engine);
        Assert.Equal(0, code2);
        Assert.StartsWith("tensorrt engine | ", table, StringComparison.Ordinal);
        Assert.Contains("images", table, StringComparison.Ordinal);
        Assert.DoesNotContain("engine_deserialize", FakeShim.CallLog(), StringComparison.Ordinal);

        // Change the engine: the sidecar is stale, and that is a one-line error that says how to fix it.
        File.AppendAllText(engine, "x");
        var (code3, _, err3) = Run("inspect", engine);
        Assert.Equal(2, code3);
        Assert.Single(err3.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("is stale", err3, StringComparison.Ordinal);
        Assert.Contains("--write-sidecar", err3, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_sidecar_an_engine_is_read_through_tensorrt_when_it_is_available()
    {
        string engine = FakeShim.WriteTemp(FakeShim.Plan(), "plain.engine");
        var (code, table, err) = Run("inspect", engine);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("scores", table, StringComparison.Ordinal);
        Assert.Contains("engine_deserialize", FakeShim.CallLog(), StringComparison.Ordinal);
        Assert.False(File.Exists(engine + ".bindings.json"), "reading is not writing: only --write-sidecar writes");
    }

    [Fact]
    public void A_tensorrt_failure_is_a_one_line_error_naming_the_file()
    {
        string engine = FakeShim.WriteTemp(FakeShim.Plan(), "broken.engine");
        FakeShim.FailNext("engine_deserialize", "Serialization assertion plan->header failed");
        var (code, output, err) = Run("inspect", engine, "--write-sidecar");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"typedtrt: {engine}: ", err, StringComparison.Ordinal);
        Assert.Contains("Serialization assertion plan->header failed", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(engine + ".bindings.json"));
    }
}
