using Microsoft.ML.OnnxRuntime;
using TypedTrt.Runtime;
using Xunit;

namespace TypedTrt.OnnxRuntime.Tests;

/// <summary>OnnxRuntimeEngineOptions reach ONNX Runtime's SessionOptions; the callback can change them (e.g. add providers).</summary>
public sealed class EngineOptionsTests
{
    private static readonly string ModelPath = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");

    [Fact]
    public void The_callback_sees_the_defaults_before_the_session_is_created()
    {
        SessionOptions? seen = null;
        (int Intra, int Inter, ExecutionMode Mode, GraphOptimizationLevel Level) values = default;
        using var engine = OnnxRuntimeEngine.Load(ModelPath, OnnxRuntimeEngineTests.DigitsSignature(), new OnnxRuntimeEngineOptions
        {
            ConfigureSessionOptions = so =>
            {
                seen = so;
                values = (so.IntraOpNumThreads, so.InterOpNumThreads, so.ExecutionMode, so.GraphOptimizationLevel);
            },
        });
        Assert.NotNull(seen);
        Assert.Equal((1, 1, ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel.ORT_ENABLE_ALL), values);
    }

    [Fact]
    public async Task Inter_op_threads_parallel_mode_and_an_optimization_level_reach_the_session_and_it_runs()
    {
        (int Intra, int Inter, ExecutionMode Mode, GraphOptimizationLevel Level) values = default;
        var options = new OnnxRuntimeEngineOptions
        {
            IntraOpThreads = 2,
            InterOpThreads = 2,
            ExecutionMode = ExecutionMode.ORT_PARALLEL,
            OptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
            ConfigureSessionOptions = so => values = (so.IntraOpNumThreads, so.InterOpNumThreads, so.ExecutionMode, so.GraphOptimizationLevel),
        };
        using var engine = OnnxRuntimeEngine.Load(ModelPath, OnnxRuntimeEngineTests.DigitsSignature(), options);
        Assert.Equal((2, 2, ExecutionMode.ORT_PARALLEL, GraphOptimizationLevel.ORT_ENABLE_BASIC), values);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        var result = await runner.RunAsync([InferenceInput.Create<float>(0, new float[64], [1, 1, 8, 8])], TestContext.Current.CancellationToken);
        Assert.Equal([1L, 10], result.GetOutput("probabilities").Shape);
        Assert.Equal(1f, result.GetOutput("probabilities").ToArray<float>().Sum(), 3);
    }

    [Fact]
    public void A_callback_that_throws_fails_the_load_with_its_exception()
    {
        var e = Assert.Throws<InvalidOperationException>(() => OnnxRuntimeEngine.Load(ModelPath, OnnxRuntimeEngineTests.DigitsSignature(), new OnnxRuntimeEngineOptions
        {
            ConfigureSessionOptions = _ => throw new InvalidOperationException("no CUDA provider here"),
        }));
        Assert.Equal("no CUDA provider here", e.Message);
    }

    [Theory]
    [InlineData(-1, 1, "IntraOpThreads")]
    [InlineData(1, -2, "InterOpThreads")]
    public void Negative_thread_counts_are_refused_by_name(int intra, int inter, string name)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxRuntimeEngine.Load(ModelPath, OnnxRuntimeEngineTests.DigitsSignature(), new OnnxRuntimeEngineOptions { IntraOpThreads = intra, InterOpThreads = inter }));
        Assert.Equal(name, e.ParamName);
    }
}
