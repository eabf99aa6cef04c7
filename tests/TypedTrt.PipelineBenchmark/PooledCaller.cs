// One request of a benchmark caller's closed loop. The loop's request delegate must return a ValueTask, and an async
// lambda that awaits RunAsync's ValueTask<InferenceResult> allocates its state machine box on every request that does
// not complete synchronously (~180 B, more than the result itself); a pooled builder reuses the boxes, so what the
// harness allocates per request is what the runner returns.
using System.Runtime.CompilerServices;
using TypedTrt.Runtime;

internal static class PooledCaller
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask RunAsync(InferenceRunner runner, IReadOnlyList<InferenceInput> inputs) =>
        await runner.RunAsync(inputs).ConfigureAwait(false);
}
