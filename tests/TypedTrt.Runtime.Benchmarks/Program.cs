using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Tests;

BenchmarkSwitcher.FromAssembly(typeof(TypedTrt.Runtime.Benchmarks.RunnerHotPath).Assembly).Run(args);

namespace TypedTrt.Runtime.Benchmarks
{

    /// <summary>
    /// The runner's host-side hot path with a host-placement fake engine: what every request pays on the CPU besides the
    /// engine itself. Each benchmark does <see cref="Ops"/> requests per invocation so the benchmark's own async plumbing
    /// is amortised; numbers are per request.
    /// </summary>
    [MemoryDiagnoser]
    public class RunnerHotPath
    {
        private const int Ops = 1000;
        private FakeEngine _engine = null!;
        private InferenceRunner _runner = null!;
        private readonly float[] _input = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

        // A free slot is leased synchronously; anything else would be a benchmark bug.
        private static InferenceLease Sync(ValueTask<InferenceLease> t) =>
            t.IsCompletedSuccessfully ? t.Result : throw new InvalidOperationException("No free slot.");

        [GlobalSetup]
        public void Setup()
        {
            _engine = new FakeEngine(maxBatch: 8);
            _runner = new InferenceRunner(_engine, new InferenceRunnerOptions { Streams = 2 });
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _engine.Dispose();
        }

        /// <summary>Lease a free slot and give it back (synchronous fast path).</summary>
        [Benchmark(OperationsPerInvoke = Ops)]
        public void AcquireRelease()
        {
            for (int i = 0; i < Ops; i++)
            {
                using var lease = Sync(_runner.AcquireAsync());
            }
        }

        /// <summary>Lease, set the dynamic shapes and copy 4 rows of input into the pinned/host slot buffers, release (no run).</summary>
        [Benchmark(OperationsPerInvoke = Ops)]
        public void AcquireShapeCopyRelease()
        {
            for (int i = 0; i < Ops; i++)
            {
                using var lease = Sync(_runner.AcquireAsync());
                lease.SetInputShape(0, [4, FakeEngine.Width]);
                lease.SetInputShape(1, [4, FakeEngine.Width]);
                _input.CopyTo(lease.GetInputSpan<float>(0));
                lease.GetInputSpan<float>(2)[0] = 2;
            }
        }

        /// <summary>A whole request: lease, shapes, input copy, RunAsync (thread-pool work item, completion, resume), read one output, release.</summary>
        [Benchmark(OperationsPerInvoke = Ops)]
        public async Task FullRequest()
        {
            for (int i = 0; i < Ops; i++)
            {
                using var lease = await _runner.AcquireAsync().ConfigureAwait(false);
                lease.SetInputShape(0, [4, FakeEngine.Width]);
                lease.SetInputShape(1, [4, FakeEngine.Width]);
                _input.CopyTo(lease.GetInputSpan<float>(0));
                lease.GetInputSpan<float>(2)[0] = 2;
                await lease.RunAsync().ConfigureAwait(false);
                _ = lease.GetOutputSpan<float>(3)[0];
            }
        }

        /// <summary>The convenience path (copies in from caller memory, allocates the output arrays).</summary>
        [Benchmark(OperationsPerInvoke = Ops)]
        public async Task ConvenienceRunAsync()
        {
            var inputs = new[]
            {
            new InferenceInput(0, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_input.AsSpan()).ToArray(), new long[] { 4, FakeEngine.Width }),
            new InferenceInput(1, new byte[64], new long[] { 4, FakeEngine.Width }),
            new InferenceInput(2, new byte[4]),
        };
            for (int i = 0; i < Ops; i++)
                _ = await _runner.RunAsync(inputs).ConfigureAwait(false);
        }
    }
}
