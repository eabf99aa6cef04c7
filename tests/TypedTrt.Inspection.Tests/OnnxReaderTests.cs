using TypedTrt.Manifest;
using static TypedTrt.Inspection.Tests.OnnxWriter;

namespace TypedTrt.Inspection.Tests;

public class OnnxReaderTests
{
    [Fact]
    public void Initializers_listed_as_graph_inputs_are_not_inputs()
    {
        var raw = OnnxExpectationTests.ReadRaw(TestPaths.Model("init_as_inputs.onnx"));
        Assert.Equal(5, raw.GraphInputs.Count);
        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], raw.InitializerNames.Order(StringComparer.Ordinal));
        var m = ModelInspector.Inspect(TestPaths.Model("init_as_inputs.onnx"));
        Assert.Equal(["x"], m.Inputs.Select(t => t.Name));
    }

    [Fact]
    public void Synthetic_initializer_and_sparse_initializer_inputs_are_dropped()
    {
        using var dir = new TempDir();
        var sparse = new Msg(15, new Msg(1, new Str(8, "sp"), new Payload(9, 16)), new Msg(2, new Str(8, "sp_idx")));
        string path = dir.Write("m.onnx", ToBytes(Model(
            Input("x", 1, 2), Input("w", 1, 2), Input("sp", 1, 2),
            Initializer("w", 8), sparse, Output("y", 1, 2))));
        var m = ModelInspector.Inspect(path);
        Assert.Equal(["x", "y"], m.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void External_data_model_inspects_without_its_data_file()
    {
        using var dir = new TempDir();
        string copy = dir.File("external_data.onnx");
        File.Copy(TestPaths.Model("external_data.onnx"), copy);
        Assert.True(File.Exists(TestPaths.Model("external_data.onnx.data")));
        Assert.False(File.Exists(copy + ".data")); // the weights are not there, and not needed
        var m = ModelInspector.Inspect(copy);
        Assert.Equal(["x", "y"], m.Tensors.Select(t => t.Name));
        Assert.Equal([-1L, 32], m.Tensors[0].Shape);
        Assert.Equal(4, OnnxExpectationTests.ReadRaw(copy).InitializerNames.Count);
    }

    [Fact]
    public void Weights_are_skipped_by_seeking_not_read()
    {
        using var dir = new TempDir();
        string path = dir.File("big.onnx");
        const long weightBytes = 64L << 20;
        using (var fs = File.Create(path))
        {
            Write(fs, Model(
                Input("x", 1, "batch", 16),
                Initializer("w1", weightBytes),
                Node("MatMul", ["x", "w1"], ["h"]),
                Initializer("w2", weightBytes),
                // A Constant node holding its tensor in an attribute: a node can be as large as a weight.
                new Msg(1, new Str(2, "c"), new Str(4, "Constant"), new Msg(5, new Str(1, "value"), new Msg(5, new Str(8, "c"), new Payload(9, weightBytes)))),
                Output("y", 1, "batch", 16)));
        }

        Assert.True(new FileInfo(path).Length > 3 * weightBytes);
        using var counting = new CountingStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0));
        var model = OnnxReader.Read(counting);
        Assert.Equal(["x"], model.Inputs.Select(i => i.Name));
        Assert.Equal(["w1", "w2"], model.InitializerNames.Order(StringComparer.Ordinal));
        Assert.Equal(new FileInfo(path).Length, model.BytesParsed);
        Assert.True(counting.BytesRead < 1 << 20, $"read {counting.BytesRead} bytes of a {new FileInfo(path).Length}-byte file");
    }

    [Theory]
    [InlineData("external_data.onnx")]
    [InlineData("multi_io.onnx")]
    [InlineData("init_as_inputs.onnx")]
    public void A_small_model_is_read_once_however_often_the_parser_skips(string name)
    {
        string path = TestPaths.Model(name);
        using var counting = new CountingStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0));
        OnnxReader.Read(counting);
        Assert.Equal(new FileInfo(path).Length, counting.BytesRead);
    }

    [Fact]
    public void Sequences_maps_and_optionals_are_kept_and_marked_unsupported()
    {
        using var dir = new TempDir();
        var seq = new Msg(12, new Str(1, "seq_out"), new Msg(2, new Msg(4, new Msg(1, new Msg(1, new Varint(1, 1))))));
        var map = new Msg(12, new Str(1, "map_out"), new Msg(2, new Msg(5, new Varint(1, 7))));
        string path = dir.Write("m.onnx", ToBytes(Model(Input("x", 1, 1), seq, map)));
        var m = ModelInspector.Inspect(path);
        Assert.Equal(["x", "seq_out", "map_out"], m.Tensors.Select(t => t.Name));
        Assert.False(m.Tensors[1].IsSupported);
        Assert.Equal("sequence", m.Tensors[1].DTypeName);
        Assert.Equal("map", m.Tensors[2].DTypeName);
        // and the manifest still round-trips
        var back = ManifestSerializer.Deserialize(ManifestSerializer.Serialize(m));
        Assert.False(back.Tensors[2].IsSupported);
    }

    [Theory]
    [InlineData(11, "double")]
    [InlineData(8, "string")]
    [InlineData(5, "int16")]
    [InlineData(4, "uint16")]
    [InlineData(12, "uint32")]
    [InlineData(13, "uint64")]
    [InlineData(14, "complex64")]
    [InlineData(19, "float8e5m2")]
    [InlineData(99, "onnx_type_99")]
    public void Types_tensorrt_cannot_bind_keep_their_onnx_name(int elemType, string name)
    {
        using var dir = new TempDir();
        string path = dir.Write("m.onnx", ToBytes(Model(Input("x", elemType, 2), Output("y", 1, 2))));
        var t = ModelInspector.Inspect(path).Tensors[0];
        Assert.False(t.IsSupported);
        Assert.Equal(name, t.DTypeName);
    }

    [Theory]
    [InlineData(1, "float")]
    [InlineData(2, "uint8")]
    [InlineData(3, "int8")]
    [InlineData(6, "int32")]
    [InlineData(7, "int64")]
    [InlineData(9, "bool")]
    [InlineData(10, "half")]
    [InlineData(16, "bf16")]
    [InlineData(17, "fp8")]
    [InlineData(22, "int4")]
    [InlineData(23, "fp4")]
    [InlineData(24, "e8m0")]
    public void Types_tensorrt_binds_map_to_its_vocabulary(int elemType, string name)
    {
        using var dir = new TempDir();
        string path = dir.Write("m.onnx", ToBytes(Model(Input("x", elemType, 2), Output("y", 1, 2))));
        var t = ModelInspector.Inspect(path).Tensors[0];
        Assert.True(t.IsSupported);
        Assert.Equal(name, t.DTypeName);
    }

    [Fact]
    public void Unknown_dims_and_negative_dim_values_are_dynamic_and_unnamed()
    {
        using var dir = new TempDir();
        string path = dir.Write("m.onnx", ToBytes(Model(Input("x", 1, null, -1L, "", 5), Output("y", 1))));
        var m = ModelInspector.Inspect(path);
        Assert.Equal([-1L, -1, -1, 5], m.Tensors[0].Shape);
        Assert.Equal(["", "", "", ""], m.Tensors[0].DimNames);
        Assert.True(m.Tensors[1].IsScalar);
    }

    [Fact]
    public void A_tensor_without_a_shape_is_an_error_that_says_how_to_fix_it()
    {
        using var dir = new TempDir();
        string path = dir.Write("m.onnx", ToBytes(Model(Input("x", 1, 2), ValueInfo(12, "y", 1, null))));
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(path));
        Assert.Contains("'y' has no shape", e.Message, StringComparison.Ordinal);
        Assert.Contains("shape_inference", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_fields_everywhere_are_skipped()
    {
        using var dir = new TempDir();
        var input = new Msg(11, new Varint(99, 5), new Str(1, "x"), new Str(3, "doc"),
            new Msg(2, new Str(6, "denotation"), new Msg(1, new Varint(1, 1), new Msg(2, new Msg(1, new Varint(1, 4), new Str(3, "DATA_BATCH"))))));
        string path = dir.Write("m.onnx", ToBytes([new Varint(5, 3), new Str(6, "doc string"), .. Model(input, Output("y", 1, 4)), new Msg(25, new Str(1, "f"))]));
        var m = ModelInspector.Inspect(path);
        Assert.Equal(["x", "y"], m.Tensors.Select(t => t.Name));
        Assert.Equal([4L], m.Tensors[0].Shape);
    }
}
