using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.OnnxRuntime.Cuda.Tests;

/// <summary>Runs everywhere: what the backend says when it cannot run, and the checks done before any GPU work.</summary>
public sealed class AvailabilityTests
{
    [Fact]
    public void Availability_explains_what_is_missing_or_says_available()
    {
        var a = OnnxRuntimeCudaAvailability.Current;
        OrtCuda.Log("availability", ("available", a.IsAvailable ? 1 : 0), ("text", a.ToString()));
        if (a.IsAvailable)
        {
            Assert.Empty(a.Problems);
            Assert.StartsWith("ONNX Runtime ", a.ToString(), StringComparison.Ordinal);
            Assert.NotNull(a.OnnxRuntimeVersion);
            return;
        }

        Assert.NotEmpty(a.Problems);
        string text = a.ToString();
        Assert.StartsWith("ONNX Runtime's CUDA provider cannot run here: ", text, StringComparison.Ordinal);
        if (!CudaDriver.IsAvailable)
            Assert.Contains("NVIDIA driver", text, StringComparison.Ordinal);
        // This test project runs the CPU build of ONNX Runtime unless the GPU natives were put next to it: then the
        // message must name the package to reference instead.
        if (a.OnnxRuntimeVersion is not null && !text.Contains("CUDAExecutionProvider", StringComparison.Ordinal))
            Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", text, StringComparison.Ordinal);
        Assert.All(a.Problems, p => Assert.EndsWith(".", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_without_the_provider_throws_the_explanation()
    {
        if (OnnxRuntimeCudaAvailability.Current.IsAvailable)
            Assert.Skip("ONNX Runtime's CUDA provider is available here; this test checks the message where it is not.");
        var e = Assert.Throws<OnnxRuntimeCudaUnavailableException>(() => OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature));
        Assert.Equal(OnnxRuntimeCudaAvailability.Current.ToString(), e.Message);
    }

    [Fact]
    public void Missing_model_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => OnnxRuntimeCudaEngine.Load(OrtCuda.Model("nope.onnx"), Digits.Signature));
        Assert.Contains("nope.onnx", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("user_compute_stream")]
    [InlineData("has_user_compute_stream")]
    [InlineData("device_id")]
    [InlineData("enable_cuda_graph")]
    public void Provider_options_the_backend_owns_are_refused(string key)
    {
        var options = new OnnxRuntimeCudaEngineOptions { CudaProviderOptions = new Dictionary<string, string> { [key] = "1" } };
        var e = Assert.Throws<ArgumentException>(() => OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, options));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_that_drifted_from_its_bindings_fails_at_load_with_every_difference()
    {
        // The metadata check uses a CPU session, so it runs without a GPU (the availability check is skipped).
        var wrong = new BindingManifest(Digits.Signature.Source,
        [
            new TensorBinding("pixels", TensorMode.Input, "half", [-1, 1, 8, 8], ["batch", "", "", ""]),
            new TensorBinding("logits", TensorMode.Output, "float", [-1, 12], ["batch", ""]),
        ]);
        var e = Assert.Throws<SignatureMismatchException>(() => OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), wrong, new OnnxRuntimeCudaEngineOptions { SkipAvailabilityCheck = true }));
        Assert.Contains("'pixels' has dtype float in the loaded model, but half", e.Message, StringComparison.Ordinal);
        Assert.Contains("logits", e.Message, StringComparison.Ordinal);
        Assert.Contains("probabilities", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_without_contexts_disposes_and_then_refuses_contexts()
    {
        var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, new OnnxRuntimeCudaEngineOptions { SkipAvailabilityCheck = true });
        Assert.Equal(Runtime.Engine.BufferPlacement.Device, engine.Placement);
        engine.Dispose();
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.CreateContext());
    }
}
