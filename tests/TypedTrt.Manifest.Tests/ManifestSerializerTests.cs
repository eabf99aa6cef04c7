using System.Text;
using TypedTrt.Manifest;

namespace TypedTrt.Manifest.Tests;

public class ManifestSerializerTests
{
    private static readonly string Sha = new('a', 64);

    internal static BindingManifest Rich() => new(
        new ModelSource(ModelKind.Onnx, "model.onnx", Sha, 1234,
            onnx: new OnnxModelInfo(8, "pytorch", "2.11.0", [new("", 17), new("com.microsoft", 1)]),
            metadata: [new("z", "last"), new("author", "me \"quoted\" ü")]),
        [
            new TensorBinding("images/rgb:0", TensorMode.Input, "float", [-1, 3, -1, -1], ["batch", "", "h", "w"]),
            new TensorBinding("scale.factor", TensorMode.Input, "half", [], []),
            new TensorBinding("x", TensorMode.Input, "double", [3], null),
            new TensorBinding("out", TensorMode.Output, "int4", [-1, 7], ["batch", ""]),
        ],
        [
            new OptimizationProfile([new ProfileShape("images/rgb:0", [1, 3, 8, 8], [4, 3, 32, 32], [8, 3, 64, 64])]),
            new OptimizationProfile([new ProfileShape("images/rgb:0", [16, 3, 8, 8], [16, 3, 8, 8], [32, 3, 8, 8])]),
        ]);

    internal static BindingManifest Engine() => new(
        new ModelSource(ModelKind.TensorRTEngine, "det.engine", Sha, 99, tensorRTVersion: "10.3.0.26"),
        [
            new TensorBinding("in", TensorMode.Input, "half", [1, 3, 64, 64], null, new EngineTensorLayout(TensorFormat.Chw16, 1, 16, 2)),
            new TensorBinding("shape", TensorMode.Input, "int64", [2], null, new EngineTensorLayout(location: TensorLocation.Host, isShapeTensor: true)),
            new TensorBinding("out", TensorMode.Output, "float", [1, 10], null, new EngineTensorLayout()),
        ]);

    [Fact]
    public void Round_trip_is_byte_identical_for_onnx_and_engine_manifests()
    {
        foreach (var m in new[] { Rich(), Engine() })
        {
            byte[] first = ManifestSerializer.Serialize(m);
            var back = ManifestSerializer.Deserialize(first, "x.json");
            byte[] second = ManifestSerializer.Serialize(back);
            Assert.Equal(Encoding.UTF8.GetString(first), Encoding.UTF8.GetString(second));
        }
    }

    [Fact]
    public void Round_trip_keeps_every_fact()
    {
        var back = ManifestSerializer.Deserialize(ManifestSerializer.Serialize(Rich()));
        Assert.Equal(["images/rgb:0", "scale.factor", "x", "out"], back.Tensors.Select(t => t.Name));
        Assert.Equal([-1L, 3, -1, -1], back.Tensors[0].Shape);
        Assert.Equal(["batch", "", "h", "w"], back.Tensors[0].DimNames);
        Assert.True(back.Tensors[1].IsScalar);
        Assert.False(back.Tensors[2].IsSupported);
        Assert.Equal("double", back.Tensors[2].DTypeName);
        Assert.Equal(TensorDataType.Int4, back.Tensors[3].DataType);
        Assert.Equal(2, back.Profiles.Count);
        Assert.Equal([8L, 3, 64, 64], back.Profiles[0].Inputs[0].Max);
        Assert.Equal(["author", "z"], back.Source.Metadata.Select(k => k.Key));
        Assert.Equal("me \"quoted\" ü", back.Source.Metadata[0].Value);
        Assert.Equal([("", 17L), ("com.microsoft", 1L)], back.Source.Onnx!.Opsets.Select(p => (p.Key, p.Value)));
        var engine = ManifestSerializer.Deserialize(ManifestSerializer.Serialize(Engine()));
        Assert.Equal("10.3.0.26", engine.Source.TensorRTVersion);
        Assert.Equal(TensorFormat.Chw16, engine.Tensors[0].Layout!.Format);
        Assert.True(engine.Tensors[1].Layout!.IsShapeTensor);
        Assert.Equal(TensorLocation.Host, engine.Tensors[1].Layout!.Location);
    }

    [Fact]
    public void Output_is_deterministic_utf8_with_lf_and_no_bom()
    {
        byte[] a = ManifestSerializer.Serialize(Rich());
        byte[] b = ManifestSerializer.Serialize(Rich());
        Assert.Equal(a, b);
        Assert.NotEqual(0xEF, a[0]);
        Assert.DoesNotContain((byte)'\r', a);
        Assert.Equal((byte)'\n', a[^1]);
        string text = Encoding.UTF8.GetString(a);
        Assert.StartsWith("{\n  \"schema\": \"typedtrt.bindings/v1\",\n  \"source\": {", text, StringComparison.Ordinal);
        Assert.Contains("\"shape\": [-1, 3, -1, -1]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_file_if_changed_writes_once()
    {
        string path = Path.Combine(Path.GetTempPath(), $"typedtrt-{Guid.NewGuid():N}", "m.json");
        try
        {
            Assert.True(ManifestSerializer.WriteFileIfChanged(Rich(), path));
            Assert.False(ManifestSerializer.WriteFileIfChanged(Rich(), path));
            Assert.Equal(ManifestSerializer.Serialize(Rich()), File.ReadAllBytes(path));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
    }

    [Fact]
    public void Malformed_json_reports_line_and_column()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize("{\n  \"schema\": ,\n}", "bad.json"));
        Assert.Equal(2, e.Line);
        Assert.True(e.Column > 1);
        Assert.StartsWith("bad.json(2,", e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("source", "required property 'source' is missing")]
    [InlineData("tensors", "required property 'tensors' is missing")]
    public void Missing_top_level_property_is_named(string property, string expected)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ManifestSerializer.SerializeToString(Rich()))!.AsObject();
        node.Remove(property);
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(node.ToJsonString(), "m.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(e.IsUnsupportedSchema);
    }

    [Fact]
    public void Missing_tensor_property_names_its_json_path()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ManifestSerializer.SerializeToString(Rich()))!.AsObject();
        node["tensors"]![2]!.AsObject().Remove("dtype");
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(node.ToJsonString()));
        Assert.Equal("tensors[2]", e.JsonPath);
        Assert.Contains("'dtype'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("typedtrt.bindings/v2", "not supported by this TypedTrt")]
    [InlineData("something/else", "not a TypedTrt binding manifest")]
    public void Unknown_schema_is_flagged_unsupported(string schema, string expected)
    {
        string json = ManifestSerializer.SerializeToString(Rich()).Replace(BindingManifest.SchemaV1, schema, StringComparison.Ordinal);
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(json));
        Assert.True(e.IsUnsupportedSchema);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_dtype_must_be_marked_and_a_known_one_must_not_be()
    {
        string json = ManifestSerializer.SerializeToString(Rich());
        string unmarked = json.Replace("\"dtype\": \"double\",\n      \"supported\": false,", "\"dtype\": \"double\",", StringComparison.Ordinal);
        Assert.NotEqual(json, unmarked);
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(unmarked));
        Assert.Equal("tensors[2].dtype", e.JsonPath);
        string wronglyMarked = json.Replace("\"dtype\": \"double\"", "\"dtype\": \"float\"", StringComparison.Ordinal);
        e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(wronglyMarked));
        Assert.Equal("tensors[2].supported", e.JsonPath);
    }

    [Theory]
    [InlineData("\"shape\": [3]", "\"shape\": [-2]", "invalid")]
    [InlineData("\"shape\": [3]", "\"shape\": [\"3\"]", "must be an integer")]
    [InlineData("\"mode\": \"input\"", "\"mode\": \"inout\"", "not a tensor mode")]
    [InlineData("\"kind\": \"onnx\"", "\"kind\": \"tflite\"", "not a model kind")]
    public void Invalid_values_are_rejected_with_a_reason(string from, string to, string expected)
    {
        string json = ManifestSerializer.SerializeToString(Rich());
        int at = json.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, from);
        string bad = string.Concat(json.AsSpan(0, at), to, json.AsSpan(at + from.Length));
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(bad, "m.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("m.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_naming_an_output_or_ranging_a_static_dim_is_rejected()
    {
        string json = ManifestSerializer.SerializeToString(Rich());
        string onOutput = json.Replace("\"name\": \"images/rgb:0\",\n          \"min\"", "\"name\": \"out\",\n          \"min\"", StringComparison.Ordinal);
        Assert.NotEqual(json, onOutput);
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(onOutput));
        Assert.Contains("output", e.Message, StringComparison.Ordinal);
        string badStatic = json.Replace("\"max\": [8, 3, 64, 64]", "\"max\": [8, 4, 64, 64]", StringComparison.Ordinal);
        e = Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(badStatic));
        Assert.Contains("static dimension 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_file_names_a_missing_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nope-{Guid.NewGuid():N}.json");
        var e = Assert.Throws<ManifestException>(() => ManifestSerializer.ReadFile(path));
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Byte_counts_pack_four_bit_types_and_pad_vectorized_formats()
    {
        var int4 = new TensorBinding("q", TensorMode.Input, "int4", [3, 3], null);
        Assert.Equal(5, int4.GetByteCount([3, 3]));
        var chw16 = Engine().Tensors[0];
        Assert.Equal(1L * 16 * 64 * 64 * 2, chw16.GetByteCount([1, 3, 64, 64]));
        var unsupported = Rich().Tensors[2];
        Assert.Throws<InvalidOperationException>(() => unsupported.GetByteCount([3]));
    }
}

public class FormatShapeTests
{
    [Fact]
    public void Shapes_format_as_bracketed_invariant_lists_through_every_overload()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("ar-SA"); // a culture with its own negative sign
        try
        {
            Assert.Equal("[-1, 3, 224, 224]", TensorBinding.FormatShape(new long[] { -1, 3, 224, 224 }));
            Assert.Equal("[]", TensorBinding.FormatShape(ReadOnlySpan<long>.Empty));
            Assert.Equal("[7]", TensorBinding.FormatShape((IReadOnlyList<long>)new List<long> { 7 }));
            Assert.Equal("[2, 5]", TensorBinding.FormatShape(stackalloc long[] { 2, 5 }));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }
}
