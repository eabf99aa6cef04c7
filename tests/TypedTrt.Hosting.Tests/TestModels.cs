using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Hosting.Tests;

/// <summary>A runner shaped like a generated one: built from (engine, options), exposes its core, disposes it.</summary>
internal sealed class TestRunner(IInferenceEngine engine, InferenceRunnerOptions options) : ITestRunner
{
    public InferenceRunner Runner { get; } = new(engine, options);

    public bool Disposed { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync();
        Disposed = true;
    }

    /// <summary>One request on the fake engine: a * k + b for <paramref name="batch"/> rows.</summary>
    public async Task<float> RunFakeAsync(int batch = 1, float a0 = 2, CancellationToken ct = default)
    {
        using var lease = await Runner.AcquireAsync(ct);
        lease.SetInputShape(0, [batch, Runtime.Tests.FakeEngine.Width]);
        lease.SetInputShape(1, [batch, Runtime.Tests.FakeEngine.Width]);
        lease.GetInputSpan<float>(0)[0] = a0;
        lease.GetInputSpan<int>(1)[0] = 1;
        lease.GetInputSpan<float>(2)[0] = 3;
        await lease.RunAsync(ct);
        return lease.GetOutputSpan<float>(3)[0];
    }
}

internal static class TestModels
{
    public static readonly string DigitsPath = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");

    /// <summary>The Digits model's signature as the generator would embed it (batch 1..32, opt 8).</summary>
    public static BindingManifest DigitsSignature() => new(
        new ModelSource(ModelKind.Onnx, "digits.onnx", new string('0', 64), 1),
        [
            new TensorBinding("pixels", TensorMode.Input, "float", [-1, 1, 8, 8], ["batch", "", "", ""]),
            new TensorBinding("logits", TensorMode.Output, "float", [-1, 10], ["batch", ""]),
            new TensorBinding("probabilities", TensorMode.Output, "float", [-1, 10], ["batch", ""]),
        ],
        [new OptimizationProfile([new ProfileShape("pixels", [1, 1, 8, 8], [8, 1, 8, 8], [32, 1, 8, 8])])]);
}

/// <summary>Stands for a generated <c>I&lt;Class&gt;Runner</c> interface.</summary>
internal interface ITestRunner : IAsyncDisposable
{
    InferenceRunner Runner { get; }
}
