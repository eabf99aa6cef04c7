using System.Text.Json;
using TypedTrt.Inspection;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;
using TypedTrt.Runtime.Tests;
using TypedTrt.Serving.KServe.Tests.Engines;
using TypedTrt.Tests.Shared;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>A runner over a real or test engine, served as a <see cref="KServeModel"/>; disposing frees runner and engine.</summary>
internal sealed class ServedModel : IAsyncDisposable
{
    private ServedModel(string name, IInferenceEngine engine, int streams = 2)
    {
        Engine = engine;
        Runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams });
        Model = new KServeModel(name, Runner);
    }

    public IInferenceEngine Engine { get; }

    public InferenceRunner Runner { get; }

    public KServeModel Model { get; }

    public static string DigitsPath => RepoPaths.Combine("samples", "Digits", "model", "digits.onnx");

    public static string TestModel(string file) => RepoPaths.Combine("tests", "models", file);

    /// <summary>An ONNX model on ONNX Runtime (CPU), with its manifest read by the inspector.</summary>
    public static ServedModel Onnx(string name, string path, params string[] profiles)
    {
        var manifest = ModelInspector.Inspect(path, new InspectionOptions { Profiles = ProfileSpec.ParseAll(profiles) });
        return new ServedModel(name, OnnxRuntimeEngine.Load(path, manifest));
    }

    public static ServedModel Digits() => Onnx("digits", DigitsPath, "batch=1..32:8");

    public static ServedModel Echo() => new("echo", new EchoEngine());

    public static ServedModel Fake(TimeSpan delay = default) => new("fake", new FakeEngine { Delay = delay });

    public async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync();
        Engine.Dispose();
    }

    /// <summary>The Digits sample's 24 held-out digits (pixels scaled to 0..1) and ONNX Runtime Python's logits and probabilities for them.</summary>
    public static (float[] Pixels, int[] Labels, float[][] Logits, float[][] Probabilities) DigitsExpected()
    {
        using var samples = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.Combine("samples", "Digits", "model", "samples.json")));
        using var expected = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.Combine("samples", "Digits", "model", "expected.json")));
        var items = samples.RootElement.GetProperty("samples").EnumerateArray().ToArray();
        float[] pixels = items.SelectMany(s => s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f)).ToArray();
        int[] labels = items.Select(s => s.GetProperty("label").GetInt32()).ToArray();
        float[][] Rows(string n) => expected.RootElement.GetProperty(n).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        return (pixels, labels, Rows("logits"), Rows("probabilities"));
    }
}
