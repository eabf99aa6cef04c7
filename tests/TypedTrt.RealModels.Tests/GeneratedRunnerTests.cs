using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.OnnxRuntime;
using Xunit;

namespace TypedTrt.RealModels.Tests;

/// <summary>
/// Models whose output shapes are known only after the run, built into generated runners by the TensorRTEngine build
/// item, against raw ONNX Runtime on the same inputs (bit for bit).
/// </summary>
public sealed class GeneratedRunnerTests
{
    private static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (long[] Shape, T[] Data) Raw<T>(string path, string output, params NamedOnnxValue[] inputs)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, so);
        using var results = session.Run(inputs);
        var t = (DenseTensor<T>)results.Single(r => r.Name == output).Value;
        return (t.Dimensions.ToArray().Select(static d => (long)d).ToArray(), t.Buffer.ToArray());
    }

    private static float[] Data(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.NextSingle() - 0.5f).ToArray();
    }

    [Fact]
    public async Task NonZero_through_the_generated_runner_equals_onnxruntime()
    {
        using var engine = OnnxRuntimeEngine.Load(Model("nonzero.onnx"), NonZeroModel.Signature);
        await using var runner = new NonZeroModelRunner(engine, 2);
        foreach (var (batch, n) in new[] { (1, 5), (4, 64), (2, 16), (3, 1) })
        {
            float[] x = Data(batch * n, batch * 100 + n);
            var output = await runner.RunAsync(new NonZeroModelInput { X = x, XShape = [batch, n] }, Ct);
            var raw = Raw<long>(Model("nonzero.onnx"), "indices", NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [batch, n])));
            Assert.Equal(raw.Shape, output.IndicesShape);
            Assert.Equal(raw.Data, output.Indices);
            var relu = Raw<float>(Model("nonzero.onnx"), "relu", NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [batch, n])));
            Assert.Equal(relu.Data, output.Relu);
        }
    }

    [Fact]
    public async Task TopK_with_a_tensor_k_through_the_generated_runner_equals_onnxruntime()
    {
        using var engine = OnnxRuntimeEngine.Load(Model("topk_dynamic.onnx"), TopKModel.Signature);
        await using var runner = new TopKModelRunner(engine, 2);
        foreach (long k in new long[] { 1, 7, 32 })
        {
            float[] x = Data(2 * 32, (int)k);
            var output = await runner.RunAsync(new TopKModelInput { X = x, XShape = [2, 32], K = new long[] { k } }, Ct);
            NamedOnnxValue[] inputs = [NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [2, 32])), NamedOnnxValue.CreateFromTensor("k", new DenseTensor<long>(new[] { k }, [1]))];
            var values = Raw<float>(Model("topk_dynamic.onnx"), "values", inputs);
            var indices = Raw<long>(Model("topk_dynamic.onnx"), "indices", inputs);
            Assert.Equal([2L, k], output.ValuesShape);
            Assert.Equal(values.Data, output.Values);
            Assert.Equal(indices.Data, output.Indices);
        }
    }

#if HAVE_PADDLE_CLS
    [Fact]
    public async Task Paddle2onnx_text_direction_classifier_through_the_generated_runner_equals_onnxruntime()
    {
        string path = TypedTrt.Tests.Shared.RepoPaths.Combine("tests", "models", "third-party", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        using var engine = OnnxRuntimeEngine.Load(path, PaddleTextDirection.Signature);
        await using var runner = new PaddleTextDirectionRunner(engine, 1);
        foreach (var (batch, width) in new[] { (1, 192), (4, 96) })
        {
            float[] x = Data(batch * 3 * 48 * width, width);
            var output = await runner.RunAsync(new PaddleTextDirectionInput { X = x, XShape = [batch, 3, 48, width] }, Ct);
            var raw = Raw<float>(path, "softmax_0.tmp_0", NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [batch, 3, 48, width])));
            Assert.Equal(raw.Shape, output.Softmax0Tmp0Shape);
            Assert.Equal(raw.Data, output.Softmax0Tmp0);
        }
    }
#else
    [Fact]
    public void Paddle2onnx_text_direction_classifier_through_the_generated_runner_equals_onnxruntime() =>
        Assert.Skip("ch_ppocr_mobile_v2.0_cls_infer.onnx was not fetched when this project was built: run tests/fetch-test-models.sh, then rebuild.");
#endif
}
