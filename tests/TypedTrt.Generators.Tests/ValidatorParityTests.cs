using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;
using TypedTrt.Manifest;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 10.5: one validator. The same corpus of manifests goes to the generator (through the driver) and to the
/// runtime reader (<see cref="ManifestSerializer.Deserialize(string, string?)"/>); both must give the same verdict.
/// The first five bad cases were accepted by the old generator and rejected at first use by the runtime.
/// </summary>
public sealed class ValidatorParityTests
{
    private const string Base = """
        {
          "schema": "typedtrt.bindings/v1",
          "source": { "kind": "tensorrt-engine", "file": "m.engine", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "bytes": 10, "tensorrtVersion": "10.3",
                      "onnx": { "irVersion": 8, "producerName": "p", "producerVersion": "1", "opsets": { "": 17 } }, "metadata": { "k": "v" } },
          "tensors": [
            { "name": "x", "mode": "input", "dtype": "float", "shape": [-1, 4], "dimNames": ["batch", ""], "format": "linear", "vectorizedDim": -1, "componentsPerElement": 1, "bytesPerComponent": 4, "location": "device", "isShapeTensor": false },
            { "name": "y", "mode": "output", "dtype": "half", "shape": [-1, 4], "dimNames": ["batch", ""] },
            { "name": "d", "mode": "input", "dtype": "double", "supported": false, "shape": [2] }
          ],
          "profiles": [ { "inputs": [ { "name": "x", "min": [1, 4], "opt": [2, 4], "max": [8, 4] } ] } ]
        }
        """;

    /// <summary>(case, text): edits of <see cref="Base"/>, good and bad.</summary>
    public static TheoryData<string, string> Corpus()
    {
        var data = new TheoryData<string, string>();
        void Edit(string name, string from, string to)
        {
            Assert.Contains(from, Base, StringComparison.Ordinal);
            data.Add(name, Base.Replace(from, to, StringComparison.Ordinal));
        }

        data.Add("base", Base);
        Edit("negative bytes", "\"bytes\": 10", "\"bytes\": -1");
        Edit("empty file", "\"file\": \"m.engine\"", "\"file\": \"\"");
        Edit("non-string metadata", "\"metadata\": { \"k\": \"v\" }", "\"metadata\": { \"k\": 1 }");
        Edit("vectorizedDim -5", "\"vectorizedDim\": -1", "\"vectorizedDim\": -5");
        Edit("onnx without irVersion", "\"irVersion\": 8, ", "");
        Edit("vectorizedDim beyond rank", "\"vectorizedDim\": -1", "\"vectorizedDim\": 2");
        Edit("components 0", "\"componentsPerElement\": 1", "\"componentsPerElement\": 0");
        Edit("components huge", "\"componentsPerElement\": 1", "\"componentsPerElement\": 4294967297");
        Edit("bytesPerComponent negative", "\"bytesPerComponent\": 4", "\"bytesPerComponent\": -4");
        Edit("bad location", "\"location\": \"device\"", "\"location\": \"moon\"");
        Edit("location without format", "\"format\": \"linear\", ", "");
        Edit("isShapeTensor not bool", "\"isShapeTensor\": false", "\"isShapeTensor\": 0");
        Edit("bad format", "\"format\": \"linear\"", "\"format\": \"zigzag\"");
        Edit("format number", "\"format\": \"linear\"", "\"format\": 3");
        Edit("tensorrtVersion number", "\"tensorrtVersion\": \"10.3\"", "\"tensorrtVersion\": 10");
        Edit("producerName number", "\"producerName\": \"p\"", "\"producerName\": 1");
        Edit("opset not integer", "{ \"\": 17 }", "{ \"\": 1.5 }");
        Edit("opsets array", "{ \"\": 17 }", "[17]");
        Edit("onnx not object", "\"onnx\": {", "\"onnx\": 1, \"x\": {");
        Edit("metadata array", "\"metadata\": { \"k\": \"v\" }", "\"metadata\": [\"v\"]");
        Edit("sha upper case", "9f86d081", "9F86D081");
        Edit("sha short", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86");
        Edit("bytes float", "\"bytes\": 10", "\"bytes\": 10.5");
        Edit("bytes string", "\"bytes\": 10", "\"bytes\": \"10\"");
        Edit("kind unknown", "\"kind\": \"tensorrt-engine\"", "\"kind\": \"tflite\"");
        Edit("schema v2", "typedtrt.bindings/v1", "typedtrt.bindings/v2");
        Edit("schema other", "typedtrt.bindings/v1", "something");
        Edit("duplicate tensor", "\"name\": \"y\"", "\"name\": \"x\"");
        Edit("empty tensor name", "\"name\": \"y\"", "\"name\": \"\"");
        Edit("mode inout", "\"mode\": \"output\"", "\"mode\": \"inout\"");
        Edit("unknown dtype", "\"dtype\": \"half\"", "\"dtype\": \"float128\"");
        Edit("known dtype marked unsupported", "\"dtype\": \"double\"", "\"dtype\": \"float\"");
        Edit("supported not bool", "\"supported\": false", "\"supported\": \"no\"");
        Edit("supported true on double", "\"supported\": false", "\"supported\": true");
        Edit("empty dtype", "\"dtype\": \"double\", \"supported\": false", "\"dtype\": \"\", \"supported\": false");
        Edit("dim -2", "\"shape\": [2]", "\"shape\": [-2]");
        Edit("dim float", "\"shape\": [2]", "\"shape\": [2.0]");
        Edit("dim exponent", "\"shape\": [2]", "\"shape\": [2e0]");
        Edit("dim beyond int32", "\"shape\": [2]", "\"shape\": [2147483648]");
        Edit("dim beyond int64", "\"shape\": [2]", "\"shape\": [9223372036854775808]");
        Edit("dim string", "\"shape\": [2]", "\"shape\": [\"2\"]");
        Edit("shape object", "\"shape\": [2]", "\"shape\": {}");
        Edit("dimNames wrong rank", "\"dimNames\": [\"batch\", \"\"] }", "\"dimNames\": [\"batch\"] }");
        Edit("dimNames not strings", "\"dimNames\": [\"batch\", \"\"] }", "\"dimNames\": [1, 2] }");
        Edit("dimNames object", "\"dimNames\": [\"batch\", \"\"] }", "\"dimNames\": {} }");
        Edit("profile unknown tensor", "{ \"name\": \"x\", \"min\"", "{ \"name\": \"z\", \"min\"");
        Edit("profile output", "{ \"name\": \"x\", \"min\"", "{ \"name\": \"y\", \"min\"");
        Edit("profile twice", "\"max\": [8, 4] } ]", "\"max\": [8, 4] }, { \"name\": \"x\", \"min\": [1, 4], \"opt\": [2, 4], \"max\": [8, 4] } ]");
        Edit("profile wrong rank", "\"min\": [1, 4]", "\"min\": [1]");
        Edit("profile min > opt", "\"min\": [1, 4]", "\"min\": [3, 4]");
        Edit("profile negative", "\"min\": [1, 4]", "\"min\": [-1, 4]");
        Edit("profile static changed", "\"max\": [8, 4]", "\"max\": [8, 5]");
        Edit("profile max beyond int32", "\"max\": [8, 4]", "\"max\": [2147483648, 4]");
        Edit("profile buffer too big", "\"max\": [8, 4]", "\"max\": [1073741824, 4]");
        Edit("profile missing max", ", \"max\": [8, 4]", "");
        Edit("profiles object", "\"profiles\": [ {", "\"profiles\": {\"a\": {");
        Edit("profile inputs missing", "{ \"inputs\": [", "{ \"ranges\": [");
        Edit("profile not object", "[ { \"inputs\"", "[ 1, { \"inputs\"");
        Edit("tensor not object", "\"tensors\": [", "\"tensors\": [ 1,");
        Edit("tensors object", "\"tensors\": [", "\"tensors\": { \"a\": [");
        Edit("source missing", "\"source\":", "\"sauce\":");
        Edit("trailing comma", "\"max\": [8, 4] } ]", "\"max\": [8, 4], } ]");
        Edit("duplicate property", "\"bytes\": 10", "\"bytes\": 10, \"bytes\": 11");
        Edit("comment", "\"tensors\": [", "// a comment\n  \"tensors\": [ /* inline */");
        Edit("unknown property", "\"bytes\": 10", "\"bytes\": 10, \"future\": { \"x\": [1, 2] }");
        Edit("unpaired surrogate", "\"k\": \"v\"", "\"k\": \"\\ud800\"");
        Edit("surrogate pair", "\"k\": \"v\"", "\"k\": \"\\ud83d\\ude00\"");
        Edit("line separator in name", "\"name\": \"y\"", "\"name\": \"y\u2028z\"");
        Edit("control char in string", "\"k\": \"v\"", "\"k\": \"a\u0001b\"");
        Edit("null value", "\"bytes\": 10", "\"bytes\": null");
        Edit("scalar tensor", "\"shape\": [2]", "\"shape\": []");
        Edit("rank 16", "\"shape\": [2]", "\"shape\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]");
        Edit("rank 17", "\"shape\": [2]", "\"shape\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]");
        data.Add("nested 64", Base.Replace("\"k\": \"v\"", "\"k\": \"v\", \"deep\": " + new string('[', 61) + new string(']', 61), StringComparison.Ordinal));
        data.Add("nested 65", Base.Replace("\"k\": \"v\"", "\"k\": \"v\", \"deep\": " + new string('[', 62) + new string(']', 62), StringComparison.Ordinal));
        data.Add("not an object", "[1, 2]");
        data.Add("empty", "");
        data.Add("bom", "\uFEFF" + Base);
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void GeneratorAndRuntimeGiveTheSameVerdict(string name, string manifest)
    {
        string? runtimeError = null;
        try
        {
            ManifestSerializer.Deserialize(manifest, "m.bindings.json");
        }
        catch (ManifestException e)
        {
            runtimeError = e.Message;
        }

        GeneratorRun run = GeneratorHarness.Run([TestManifests.File(manifest)]);
        var errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.All(run.GeneratorDiagnostics, d => Assert.StartsWith("TTRT", d.Id, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, d => d.Id == "TTRT0099");
        Assert.True(
            (runtimeError is null) == (errors.Count == 0),
            $"{name}: runtime {(runtimeError is null ? "accepts" : "rejects: " + runtimeError)}; generator {(errors.Count == 0 ? "accepts" : "rejects: " + string.Join("; ", errors.Select(e => e.GetMessage(System.Globalization.CultureInfo.InvariantCulture))))}");
        if (runtimeError is null)
            TestManifests.AssertCompilesCleanly(run);
    }
}
