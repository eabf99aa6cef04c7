using System.Diagnostics;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>
/// <see cref="InferenceRunner.DisposeAsync"/> racing callers that loop in <see cref="InferenceRunner.AcquireAsync"/>,
/// the lease's <see cref="InferenceLease.RunAsync"/> and the convenience
/// <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>, some with tokens that
/// cancel at random. Every caller must end with <see cref="ObjectDisposedException"/> (a caller that waits forever is a
/// hang: each iteration has a deadline, so a hang fails the test instead of stalling the run), every request must be
/// right, and the dispose must free every context.
/// </summary>
public sealed class DisposeRaceTests
{
    private const int Callers = 16;
    private static readonly TimeSpan IterationDeadline = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DisposeAsync_racing_16_looping_callers_never_leaves_one_waiting()
    {
        // Thousands of iterations: about 10 s of CPU time. The semaphore-based design this replaced hung in about one
        // iteration of 600 (a caller that passed the disposed check just before DisposeAsync took every slot).
        const int iterations = 2000;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
            await RunIterationAsync(i);
        TestContext.Current.SendDiagnosticMessage($"{iterations} dispose races in {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Waiters_queued_behind_a_dispose_get_ObjectDisposedException_without_waiting_for_leases()
    {
        // A deterministic form of the race: every slot is leased, callers wait, the runner is disposed while the
        // leases are still out. Every waiter (with or without a token, lease or convenience path) fails at once with
        // ObjectDisposedException; the dispose itself completes only when the leases come back.
        using var engine = new FakeEngine();
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        var l0 = await runner.AcquireAsync(Ct);
        var l1 = await runner.AcquireAsync(Ct);
        using var cts = new CancellationTokenSource();
        var waiters = new List<Task>
        {
            runner.AcquireAsync(Ct).AsTask(),
            runner.AcquireAsync(cts.Token).AsTask(),
            runner.RunAsync(Inputs(1), Ct).AsTask(),
            runner.RunAsync(Inputs(2), cts.Token).AsTask(),
        };
        foreach (var w in waiters)
            Assert.False(w.IsCompleted);
        ValueTask dispose = runner.DisposeAsync();
        foreach (var w in waiters)
            await Assert.ThrowsAsync<ObjectDisposedException>(() => w.WaitAsync(IterationDeadline, Ct));
        Assert.False(dispose.IsCompleted, "dispose waits for the leases");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.AcquireAsync(Ct).AsTask());
        l0.Dispose();
        l1.Dispose();
        await dispose.AsTask().WaitAsync(IterationDeadline, Ct);
        Assert.Equal(2, engine.ContextsDisposed);
    }

    [Fact]
    public async Task A_cancelled_waiter_gives_its_turn_to_the_next_and_dispose_still_completes()
    {
        using var engine = new FakeEngine();
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        var lease = await runner.AcquireAsync(Ct);
        using var cts = new CancellationTokenSource();
        var cancelled = runner.AcquireAsync(cts.Token).AsTask();
        var next = runner.AcquireAsync(Ct).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(IterationDeadline, Ct));
        Assert.False(next.IsCompleted);
        lease.Dispose();
        using (var second = await next.WaitAsync(IterationDeadline, Ct))
            Assert.Equal(0, second.SlotIndex);
        await runner.DisposeAsync().AsTask().WaitAsync(IterationDeadline, Ct);
        Assert.Equal(1, engine.ContextsDisposed);
    }

    private static async Task RunIterationAsync(int iteration)
    {
        var rng = new Random(iteration);
        int streams = 1 + (iteration % 3);
        using var engine = new FakeEngine();
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams });
        var failures = new List<string>();
        var progress = new Progress();
        var callers = new Task[Callers];
        for (int c = 0; c < Callers; c++)
        {
            int kind = c % 4, seed = (iteration * Callers) + c;
            callers[c] = Task.Run(() => CallerAsync(runner, kind, seed, progress, failures), CancellationToken.None);
        }

        // Dispose at a random moment while the callers are busy acquiring, waiting, running and returning slots: after a
        // random number of caller loops, then a random spin.
        int loops = rng.Next(0, 48), spin = rng.Next(0, 4000);
        SpinWait.SpinUntil(() => Volatile.Read(ref progress.Loops) >= loops, TimeSpan.FromSeconds(2));
        Thread.SpinWait(spin);
        Task dispose = runner.DisposeAsync().AsTask();

        try
        {
            await Task.WhenAll(callers).WaitAsync(IterationDeadline, Ct);
            await dispose.WaitAsync(IterationDeadline, Ct);
        }
        catch (TimeoutException)
        {
            int hung = Array.FindAll(callers, t => !t.IsCompleted).Length;
            Assert.Fail($"Iteration {iteration} ({streams} streams, dispose after {loops} caller loops and {spin} spins): {hung} of {Callers} callers still waiting {IterationDeadline.TotalSeconds} s after DisposeAsync; dispose {(dispose.IsCompleted ? "completed" : "not completed")}.");
        }

        lock (failures)
            Assert.True(failures.Count == 0, $"Iteration {iteration}: {string.Join("; ", failures)}");
        Assert.Equal(streams, engine.ContextsCreated);
        Assert.Equal(streams, engine.ContextsDisposed);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.AcquireAsync(Ct).AsTask());
    }

    /// <summary>Loops until the runner refuses with <see cref="ObjectDisposedException"/>; records anything else.</summary>
    private static async Task CallerAsync(InferenceRunner runner, int kind, int seed, Progress progress, List<string> failures)
    {
        var rng = new Random(seed);
        for (int n = 0; ; n++)
        {
            Interlocked.Increment(ref progress.Loops);
            // Kind 2 waits with a token that may be cancelled while it waits (or be cancelled already).
            using var cts = kind == 2 ? new CancellationTokenSource() : null;
            if (cts is not null && rng.Next(4) == 0)
                cts.CancelAfter(TimeSpan.FromMilliseconds(rng.Next(0, 3)));
            var token = cts?.Token ?? CancellationToken.None;
            try
            {
                switch (kind)
                {
                    case 0 or 2:
                        await LeaseRunAsync(runner, seed + n, token);
                        break;
                    case 1:
                        var result = await runner.RunAsync(Inputs(seed + n), token);
                        Check(seed + n, result.GetOutput(3).ToArray<float>());
                        break;
                    default:
                        // Acquire and return without running: the most acquisitions per second.
                        using (await runner.AcquireAsync(token))
                        {
                        }

                        break;
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // every other failure is recorded and fails the test
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lock (failures)
                    failures.Add($"caller kind {kind}: {ex.GetType().Name}: {ex.Message}");
                return;
            }
        }
    }

    private static async Task LeaseRunAsync(InferenceRunner runner, int seed, CancellationToken token)
    {
        using var lease = await runner.AcquireAsync(token);
        lease.SetInputShape(0, [1, FakeEngine.Width]);
        lease.SetInputShape(1, [1, FakeEngine.Width]);
        var (a, b, k) = Values(seed);
        a.CopyTo(lease.GetInputSpan<float>(0));
        b.CopyTo(lease.GetInputSpan<int>(1));
        lease.GetInputSpan<float>(2)[0] = k;
        await lease.RunAsync(token);
        Check(seed, lease.GetOutputSpan<float>(3));
    }

    private static InferenceInput[] Inputs(int seed)
    {
        var (a, b, k) = Values(seed);
        return
        [
            InferenceInput.Create<float>(0, a, [1, FakeEngine.Width]),
            InferenceInput.Create<int>(1, b, [1, FakeEngine.Width]),
            InferenceInput.Create<float>(2, [k]),
        ];
    }

    private static (float[] A, int[] B, float K) Values(int seed) =>
        ([seed % 100, 1, 2, 3], [seed % 7, -1, 0, 5], 1 + (seed % 3));

    private static void Check(int seed, ReadOnlySpan<float> y)
    {
        var (a, b, k) = Values(seed);
        for (int i = 0; i < a.Length; i++)
        {
            if (y[i] != (a[i] * k) + b[i])
                throw new InvalidOperationException($"Wrong result for seed {seed}: y[{i}] = {y[i]}, expected {(a[i] * k) + b[i]}.");
        }
    }

    private sealed class Progress
    {
        public int Loops;
    }
}
