using System.Globalization;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Samples.Digits;

/// <summary>
/// <c>--batching</c>: many concurrent single-digit requests through the same generated DigitClassifierRunner, first
/// with one enqueue per request, then with dynamic batching (only the options change), and the batch sizes it formed.
/// </summary>
internal static class BatchingDemo
{
    public const int Callers = 64;

    public static async Task<bool> RunAsync(IInferenceEngine engine, IReadOnlyList<float[]> digits, int streams, TimeSpan window)
    {
        var batching = new DynamicBatchingOptions
        {
            MaxBatchSize = (int)DigitClassifier.Tensors.Pixels.MaxShape[0],
            MaxQueueDelay = TimeSpan.FromMilliseconds(1),
        };
        var inputs = digits.Select(d => new DigitClassifierInput { Pixels = d, PixelsShape = [1, 1, 8, 8] }).ToArray();
        var measure = new MeasurementOptions { Window = window, Warmup = TimeSpan.FromMilliseconds(300) };

        // The same predictions either way: one request per digit without batching is the reference.
        var expected = new int[digits.Count];
        await using (var reference = new DigitClassifierRunner(engine, streams))
        {
            for (int i = 0; i < digits.Count; i++)
                expected[i] = ArgMax((await reference.RunAsync(inputs[i])).Probabilities);
        }

        Console.WriteLine();
        Console.WriteLine($"{Callers} concurrent callers, one digit per request, {streams} stream(s), {(engine.Placement == BufferPlacement.Host ? "ONNX Runtime (CPU)" : "GPU")}:");
        Console.WriteLine("  runner                                   items/s    p50 ms    p99 ms  stable");
        double plain = 0, batched = 0;
        int wrong = 0;
        BatchingStatistics? stats = null;
        foreach (var options in new DynamicBatchingOptions?[] { null, batching })
        {
            await using var runner = new DigitClassifierRunner(engine, new InferenceRunnerOptions { Streams = streams, Batching = options });
            var m = await LoadMeasurement.MeasureAsync(Callers, async caller =>
            {
                int d = caller % inputs.Length;
                var output = await runner.RunAsync(inputs[d]).ConfigureAwait(false);
                if (ArgMax(output.Probabilities) != expected[d])
                    Interlocked.Increment(ref wrong);
            }, measure);
            string name = options is null ? "without batching" : string.Create(CultureInfo.InvariantCulture, $"batching (max {options.MaxBatchSize}, delay {options.MaxQueueDelay.TotalMilliseconds:0.#} ms)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-38} {m.RequestsPerSecond,9:0}  {m.LatencyP50Microseconds / 1000,8:0.000}  {m.LatencyP99Microseconds / 1000,8:0.000}  {(m.Stable ? "yes" : "no")}"));
            if (options is null)
                plain = m.RequestsPerSecond;
            else
                (batched, stats) = (m.RequestsPerSecond, runner.Runner.GetBatchingStatistics());
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  batching / without: {batched / plain:0.00}x; predictions that differ from one-at-a-time runs: {wrong}"));
        Console.WriteLine();
        Console.WriteLine(stats);
        return wrong == 0;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }

        return best;
    }
}
