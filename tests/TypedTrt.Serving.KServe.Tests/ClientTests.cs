using System.Runtime.InteropServices;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime;
using TypedTrt.Serving.KServe.Tests.Engines;
using TypedTrt.Serving.KServe.Tests.Generated;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>The library client and the generated typed clients against the server, over gRPC and REST (binary and JSON tensors).</summary>
public sealed class ClientTests
{
    public enum Transport
    {
        Grpc,
        RestBinary,
        RestJson,
    }

    private static IKServeClient Client(KServeTestHost host, Transport transport) => transport switch
    {
        Transport.Grpc => new KServeGrpcClient(host.Channel),
        Transport.RestBinary => new KServeRestClient(host.Http),
        _ => new KServeRestClient(host.Http, new KServeRestClientOptions { BinaryInputs = false, BinaryOutputs = false }),
    };

    /// <summary>Application code that depends only on the generated interface.</summary>
    private static async Task<(int[] Predictions, float[] Probabilities)> ClassifyAsync(IDigitClassifierRunner runner, float[] pixels, int n)
    {
        var output = await runner.RunAsync(new DigitClassifierInput { Pixels = pixels.AsMemory(0, n * 64), PixelsShape = [n, 1, 8, 8] });
        Assert.Equal([n, 10], output.ProbabilitiesShape);
        var predictions = new int[n];
        for (int i = 0; i < n; i++)
            predictions[i] = Array.IndexOf(output.Probabilities, output.Probabilities.AsSpan(i * 10, 10).ToArray().Max(), i * 10) - i * 10;
        return (predictions, output.Probabilities);
    }

    [Theory]
    [InlineData(Transport.Grpc)]
    [InlineData(Transport.RestBinary)]
    [InlineData(Transport.RestJson)]
    public async Task Generated_client_and_in_process_runner_give_the_same_typed_results(Transport transport)
    {
        var (pixels, labels, _, _) = ServedModel.DigitsExpected();
        using var engine = OnnxRuntimeEngine.Load(ServedModel.DigitsPath, DigitClassifier.Signature);
        await using IDigitClassifierRunner local = new DigitClassifierRunner(engine);
        await using var served = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([served.Model]);
        await using var remoteClient = new DigitClassifierClient(Client(host, transport), "digits");
        IDigitClassifierRunner remote = remoteClient;

        foreach (int n in new[] { 1, 5, 24 })
        {
            var (localPredictions, localProbabilities) = await ClassifyAsync(local, pixels, n);
            var (remotePredictions, remoteProbabilities) = await ClassifyAsync(remote, pixels, n);
            Assert.Equal(localPredictions, remotePredictions);
            // binary tensors carry the exact bits; JSON numbers are written shortest-round-trip, so they are exact too
            Assert.Equal(localProbabilities, remoteProbabilities);
        }

        var (predictions, _) = await ClassifyAsync(remote, pixels, 24);
        Assert.True(predictions.Zip(labels).Count(p => p.First == p.Second) >= 23);

        var e = await Assert.ThrowsAsync<NotSupportedException>(async () => await remote.AcquireAsync());
        Assert.Contains("use RunAsync", e.Message, StringComparison.Ordinal);
        await remoteClient.Model.VerifyAsync();
        Assert.True(await remoteClient.Model.IsReadyAsync());
    }

    [Theory]
    [InlineData(Transport.Grpc)]
    [InlineData(Transport.RestBinary)]
    [InlineData(Transport.RestJson)]
    public async Task Generated_client_round_trips_every_dtype_exactly(Transport transport)
    {
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([echo.Model]);
        var client = new EchoClient(Client(host, transport), "echo");
        long[] shape = [EchoData.Rows, 3];
        T[] Values<T>(string d) where T : unmanaged => MemoryMarshal.Cast<byte, T>(EchoData.All.Single(a => a.DType == d).Bytes).ToArray();
        var input = new EchoInput
        {
            InFloat = Values<float>("float"),
            InFloatShape = shape,
            InHalf = Values<Half>("half"),
            InHalfShape = shape,
            InBf16 = Values<byte>("bf16"),
            InBf16Shape = shape,
            InInt8 = Values<sbyte>("int8"),
            InInt8Shape = shape,
            InInt32 = Values<int>("int32"),
            InInt32Shape = shape,
            InInt64 = Values<long>("int64"),
            InInt64Shape = shape,
            InUint8 = Values<byte>("uint8"),
            InUint8Shape = shape,
            InBool = Values<bool>("bool"),
            InBoolShape = shape,
        };
        var output = await client.RunAsync(input);
        Assert.Equal(input.InFloat.ToArray(), output.OutFloat);
        Assert.Equal(input.InHalf.ToArray(), output.OutHalf);
        Assert.Equal(input.InBf16.ToArray(), output.OutBf16);
        Assert.Equal(input.InInt8.ToArray(), output.OutInt8);
        Assert.Equal(input.InInt32.ToArray(), output.OutInt32);
        Assert.Equal(input.InInt64.ToArray(), output.OutInt64);
        Assert.Equal(input.InUint8.ToArray(), output.OutUint8);
        Assert.Equal(input.InBool.ToArray(), output.OutBool);
        Assert.Equal(shape, output.OutBoolShape);

        // dynamic shapes: each input its own row count, one inferred from the data's length
        input.InFloat = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        input.InFloatShape = null;
        input.InInt64 = new long[] { long.MinValue, 0, long.MaxValue };
        input.InInt64Shape = [1, 3];
        output = await client.RunAsync(input);
        Assert.Equal([3L, 3], output.OutFloatShape);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9f], output.OutFloat);
        Assert.Equal([1L, 3], output.OutInt64Shape);
        Assert.Equal([long.MinValue, 0, long.MaxValue], output.OutInt64);
    }

    [Theory]
    [InlineData(Transport.Grpc)]
    [InlineData(Transport.RestBinary)]
    public async Task Server_errors_reach_the_client_with_their_kind_and_message(Transport transport)
    {
        await using var served = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([served.Model]);
        var client = Client(host, transport);

        var wrongModel = new DigitClassifierClient(client, "digitz");
        var e = await Assert.ThrowsAsync<KServeException>(async () => await wrongModel.RunAsync(new DigitClassifierInput { Pixels = new float[64] }));
        Assert.Equal((KServeErrorKind.NotFound, "Model 'digitz' is not served here; models: 'digits'."), (e.Kind, e.Message));

        var digits = new DigitClassifierClient(client, "digits");
        e = await Assert.ThrowsAsync<KServeException>(async () => await digits.RunAsync(new DigitClassifierInput { Pixels = new float[33 * 64] }));
        Assert.Equal((KServeErrorKind.InvalidArgument, "Input 'pixels' has dimension 0 ('batch') = 33; it must be within 1..32 (model shape [-1, 1, 8, 8])."), (e.Kind, e.Message));

        // checked locally before sending
        var a = await Assert.ThrowsAsync<ArgumentException>(async () => await digits.RunAsync(new DigitClassifierInput { Pixels = new float[65] }));
        Assert.Contains("not a whole number of 64-element rows", a.Message, StringComparison.Ordinal);

        served.Model.IsReady = false;
        Assert.False(await client.IsServerReadyAsync());
        e = await Assert.ThrowsAsync<KServeException>(async () => await digits.RunAsync(new DigitClassifierInput { Pixels = new float[64] }));
        Assert.Equal(KServeErrorKind.Unavailable, e.Kind);
    }

    [Theory]
    [InlineData(Transport.Grpc)]
    [InlineData(Transport.RestBinary)]
    public async Task Health_metadata_and_verification_over_both_transports(Transport transport)
    {
        await using var served = ServedModel.Digits();
        await using var echo = ServedModel.Echo();
        await using var host = await KServeTestHost.StartAsync([served.Model, echo.Model]);
        var client = Client(host, transport);
        Assert.True(await client.IsServerLiveAsync());
        Assert.True(await client.IsServerReadyAsync());
        Assert.True(await client.IsModelReadyAsync("digits", "1"));
        var server = await client.GetServerMetadataAsync();
        Assert.Equal("typedtrt", server.Name);
        Assert.Equal(["binary_tensor_data"], server.Extensions);
        var meta = await client.GetModelMetadataAsync("echo");
        Assert.Equal(["FP32", "FP16", "BF16", "INT8", "INT32", "INT64", "UINT8", "BOOL"], meta.Inputs.Select(i => i.Datatype));
        Assert.Equal([-1L, 3], meta.Outputs[0].Shape);
        var missing = await Assert.ThrowsAsync<KServeException>(async () => await client.GetModelMetadataAsync("nope"));
        Assert.Equal(KServeErrorKind.NotFound, missing.Kind);

        // the digits client pointed at the echo model: VerifyAsync lists every difference
        var wrong = new DigitClassifierClient(client, "echo");
        var v = await Assert.ThrowsAsync<InvalidOperationException>(() => wrong.Model.VerifyAsync());
        Assert.Contains("the server's model has no input 'pixels'", v.Message, StringComparison.Ordinal);
        Assert.Contains("the server's model takes input 'in_float', which the manifest does not have", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_concurrent_typed_requests_over_one_channel_all_get_their_own_answers()
    {
        var (pixels, _, _, _) = ServedModel.DigitsExpected();
        await using var served = ServedModel.Digits();
        await using var host = await KServeTestHost.StartAsync([served.Model]);
        var client = new DigitClassifierClient(new KServeGrpcClient(host.Channel), "digits");
        using var engine = OnnxRuntimeEngine.Load(ServedModel.DigitsPath, DigitClassifier.Signature);
        await using var local = new DigitClassifierRunner(engine);
        var tasks = Enumerable.Range(0, 64).Select(async i =>
        {
            int n = i % 24 + 1;
            var input = new DigitClassifierInput { Pixels = pixels.AsMemory((24 - n) * 64, n * 64) };
            var (r, l) = (await client.RunAsync(input), await local.RunAsync(input));
            Assert.Equal(l.Logits, r.Logits);
        });
        await Task.WhenAll(tasks);
        _ = typeof(InferenceResult);
        _ = EchoEngine.Width;
    }
}
