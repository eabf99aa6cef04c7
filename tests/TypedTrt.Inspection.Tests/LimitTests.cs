using static TypedTrt.Inspection.Tests.OnnxWriter;

namespace TypedTrt.Inspection.Tests;

/// <summary>
/// Sizes are checked where they enter (issue 10.4): the inspector refuses, naming the tensor, any dimension, profile
/// bound, buffer or rank the runtime cannot allocate or bind, with the same rules the manifest readers apply — so it
/// never writes a manifest that the build or the application would then reject.
/// </summary>
public class LimitTests
{
    private const int Float = 1;

    private static ModelInspectionException Fails(string path, InspectionOptions? options = null)
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(path, options));
        Assert.Equal(path, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static string Write(TempDir dir, params Part[] graph) => dir.Write("m.onnx", ToBytes(Model(graph)));

    [Fact]
    public void A_static_dimension_beyond_int32_is_an_error_naming_the_tensor()
    {
        using var dir = new TempDir();
        var e = Fails(Write(dir, Input("pixels", Float, 1, 3_000_000_000L), Output("y", Float, 1, 2)));
        Assert.Contains("input 'pixels'", e.Reason, StringComparison.Ordinal);
        Assert.Contains("3000000000", e.Reason, StringComparison.Ordinal);
        Assert.Contains("largest dimension", e.Reason, StringComparison.Ordinal);
        Assert.Contains("docs/diagnostics.md", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_buffer_beyond_what_an_array_holds_is_an_error_naming_the_tensor()
    {
        using var dir = new TempDir();
        // 65,536 × 65,536 = 4.3e9 elements: every dim is fine on its own, the buffer is not.
        var e = Fails(Write(dir, Input("x", Float, 1, 2), Output("huge", Float, 65_536, 65_536)));
        Assert.Contains("output 'huge'", e.Reason, StringComparison.Ordinal);
        Assert.Contains("elements", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_bound_beyond_int32_is_an_error()
    {
        using var dir = new TempDir();
        string path = Write(dir, Input("x", Float, "batch", 4), Output("y", Float, "batch", 4));
        var e = Fails(path, new InspectionOptions { Profiles = ProfileSpec.ParseAll(["batch=1..5000000000:8"]) });
        Assert.Contains("5000000000", e.Reason, StringComparison.Ordinal);
        Assert.Contains("--profile", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rank_the_runtime_cannot_hold_is_an_error()
    {
        using var dir = new TempDir();
        object[] dims = Enumerable.Repeat((object)1, 17).ToArray();
        var e = Fails(Write(dir, Input("deep", Float, dims), Output("y", Float, 1)));
        Assert.Contains("input 'deep'", e.Reason, StringComparison.Ordinal);
        Assert.Contains("rank 17", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-2L)]
    [InlineData(-5L)]
    [InlineData(long.MinValue)]
    public void A_negative_dimension_other_than_minus_one_is_an_error(long dim)
    {
        using var dir = new TempDir();
        var e = Fails(Write(dir, Input("x", Float, 1, dim), Output("y", Float, 1)));
        Assert.Contains("input 'x'", e.Reason, StringComparison.Ordinal);
        Assert.Contains($"dimension 1 as {dim}", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Minus_one_is_how_some_exporters_write_unknown_and_stays_dynamic()
    {
        using var dir = new TempDir();
        var m = ModelInspector.Inspect(Write(dir, Input("x", Float, -1L, 4), Output("y", Float, -1L, 4)));
        Assert.Equal([-1L, 4L], m.Tensors[0].Shape);
    }

    [Fact]
    public void The_largest_allowed_sizes_pass()
    {
        using var dir = new TempDir();
        // int.MaxValue elements of bytes would exceed Array.MaxLength; 0x7FFFFFC7 bytes is exactly the limit.
        var m = ModelInspector.Inspect(Write(dir, Input("x", 2 /* uint8 */, 0x7FFFFFC7L), Output("y", Float, 1)));
        Assert.Equal(0x7FFFFFC7L, m.Tensors[0].Shape[0]);
    }
}
