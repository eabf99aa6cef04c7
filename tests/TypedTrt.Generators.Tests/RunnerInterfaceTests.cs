using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;
using static TypedTrt.Generators.Tests.Infrastructure.TestManifests;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 13.3: application code depends on the generated <c>IMRunner</c>, so it is unit-tested with a fake (no GPU, no
/// engine); the generated runner implements the same interface and, over a host-memory engine, runs the lean generated
/// code end to end on the CPU (shape inference, copies, scalars, lease, and the runtime's messages).
/// </summary>
public sealed class RunnerInterfaceTests
{
    private static readonly string ManifestText = Doc(
        string.Join(",\n",
            Tensor("x", shape: "[-1, 4]", dimNames: "[\"n\", \"\"]"),
            Tensor("k", shape: "[]"),
            Tensor("y", "output", shape: "[-1, 4]", dimNames: "[\"n\", \"\"]"),
            Tensor("sum", "output", shape: "[]")),
        Range("x", "[1, 4]", "[2, 4]", "[8, 4]"));

    private const string AppCode = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using App;
        using TypedTrt.Manifest;
        using TypedTrt.Runtime.Engine;

        /// <summary>Application code: it only knows the interface.</summary>
        public sealed class Scorer(IMRunner runner)
        {
            /// <summary>Scores rows.</summary>
            public async Task<float> ScoreAsync(float[] rows)
            {
                MOutput o = await runner.RunAsync(new MInput { X = rows, K = 2f });
                return o.Sum + o.Y[0] + o.YShape[0];
            }
        }

        /// <summary>A test double: what a unit test of Scorer writes.</summary>
        public sealed class FakeRunner : IMRunner
        {
            /// <summary>The last input.</summary>
            public MInput? Last { get; private set; }

            /// <inheritdoc/>
            public ValueTask<MOutput> RunAsync(MInput input, CancellationToken cancellationToken = default)
            {
                Last = input;
                return ValueTask.FromResult(new MOutput { Y = [1f, 2f, 3f, 4f], YShape = [1, 4], Sum = 10f });
            }

            /// <inheritdoc/>
            public ValueTask<MLease> AcquireAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("a fake has no slots");

            /// <inheritdoc/>
            public ValueTask DisposeAsync() => default;
        }

        /// <summary>A CPU engine: y = x * k, sum = Σ x.</summary>
        public sealed class EchoEngine(BindingManifest signature) : IInferenceEngine
        {
            /// <inheritdoc/>
            public BindingManifest Signature => signature;

            /// <inheritdoc/>
            public BufferPlacement Placement => BufferPlacement.Host;

            /// <inheritdoc/>
            public IEngineContext CreateContext() => new Context();

            /// <inheritdoc/>
            public void Dispose()
            {
            }

            private sealed unsafe class Context : IEngineContext
            {
                private readonly nint[] _addr = new nint[4];
                private long _n = 1;

                public void SetOptimizationProfile(int profileIndex, nint stream)
                {
                }

                public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => _n = tensorIndex == 0 ? dims[0] : _n;

                public int GetTensorShape(int tensorIndex, Span<long> dims)
                {
                    if (tensorIndex is 1 or 3)
                        return 0;
                    dims[0] = _n;
                    dims[1] = 4;
                    return 2;
                }

                public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes) => _addr[tensorIndex] = address;

                public void Enqueue(nint stream)
                {
                    float* x = (float*)_addr[0], y = (float*)_addr[2];
                    float k = *(float*)_addr[1], sum = 0;
                    for (long i = 0; i < _n * 4; i++)
                    {
                        y[i] = x[i] * k;
                        sum += x[i];
                    }

                    *(float*)_addr[3] = sum;
                }

                public void Dispose()
                {
                }
            }
        }

        /// <summary>Entry points for the test.</summary>
        public static class Checks
        {
            /// <summary>Scorer against the fake.</summary>
            public static async Task<string> FakeAsync()
            {
                var fake = new FakeRunner();
                float score = await new Scorer(fake).ScoreAsync(new float[8]);
                return $"{score} {fake.Last!.X.Length} {fake.Last.K}";
            }

            /// <summary>The generated runner through the interface, on the CPU.</summary>
            public static async Task<string> RealAsync()
            {
                using var engine = new EchoEngine(M.Signature);
                await using IMRunner runner = new MRunner(engine);
                MOutput o = await runner.RunAsync(new MInput { X = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, K = 3f });
                string result = $"{string.Join(",", o.Y)} [{string.Join(",", o.YShape)}] {o.Sum} {await new Scorer(runner).ScoreAsync([1, 1, 1, 1])}";
                using (MLease lease = await runner.AcquireAsync())
                {
                    Fill(lease);
                    await lease.RunAsync();
                    result += " lease " + Read(lease);
                }

                foreach (int length in new[] { 7, 36 })
                {
                    try
                    {
                        await runner.RunAsync(new MInput { X = new float[length], K = 1f });
                    }
                    catch (ArgumentException e)
                    {
                        result += " | " + e.Message;
                    }
                }

                return result + " | " + M.Tensors.X.MaxShape[0] + " " + M.Tensors.Sum.IsShapeKnownOnlyAfterRun;
            }

            private static void Fill(MLease lease)
            {
                lease.Inputs.SetXShape([1, 4]);
                lease.Inputs.X.Fill(1f);
                lease.Inputs.K[0] = 5f;
            }

            private static string Read(MLease lease) => $"{lease.Outputs.Y[0]} {lease.Outputs.YShape[0]} {lease.Outputs.Sum[0]}";
        }
        """;

    private static Type Checks()
    {
        GeneratorRun run = GeneratorHarness.Run([File(ManifestText)], AppCode);
        var bad = WarningsAndErrors(run);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
        using var pe = new MemoryStream();
        var result = run.Output.Emit(pe);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        pe.Position = 0;
        return new AssemblyLoadContext("interface", isCollectible: true).LoadFromStream(pe).GetType("Checks", throwOnError: true)!;
    }

    private static async Task<string> Call(string method) =>
        await (Task<string>)Checks().GetMethod(method, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null)!;

    [Fact]
    public async Task ApplicationCodeIsTestedWithAFakeRunner() =>
        Assert.Equal("12 8 2", await Call("FakeAsync"));

    [Fact]
    public async Task GeneratedRunnerImplementsTheInterfaceOnTheCpu()
    {
        string result = await Call("RealAsync");
        string[] parts = result.Split(" | ");
        Assert.Equal("3,6,9,12,15,18,21,24 [2,4] 36 7 lease 5 1 4", parts[0]);
        Assert.Contains("Input 'x': 7 elements are not a whole number of 4-element rows", parts[1], StringComparison.Ordinal);
        Assert.Contains("Input 'x' dimension 0 ('n') is 9, outside optimization profile 0's range 1..8", parts[2], StringComparison.Ordinal);
        Assert.Equal("8 False", parts[3]);
    }
}
