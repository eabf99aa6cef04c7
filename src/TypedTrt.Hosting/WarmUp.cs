using TypedTrt.Manifest;
using TypedTrt.Runtime;

namespace TypedTrt.Hosting;

/// <summary>
/// Start-up warm-up: every slot runs <c>runs</c> requests with zero-filled inputs at the optimization profile's optimal
/// shape (all slots at once, so each slot's context and buffers are exercised), before the model reports ready.
/// </summary>
internal static class WarmUp
{
    public static async Task RunAsync(InferenceRunner runner, int runs, CancellationToken cancellationToken)
    {
        if (runs <= 0)
            return;
        var signature = runner.Signature;
        var profile = signature.Profiles.Count > runner.ProfileIndex ? signature.Profiles[runner.ProfileIndex] : null;
        for (int r = 0; r < runs; r++)
        {
            var leases = new InferenceLease[runner.SlotCount];
            try
            {
                for (int s = 0; s < leases.Length; s++)
                    leases[s] = await runner.AcquireAsync(cancellationToken).ConfigureAwait(false);
                var runsInFlight = new Task[leases.Length];
                for (int s = 0; s < leases.Length; s++)
                {
                    Prepare(leases[s], signature, profile);
                    runsInFlight[s] = leases[s].RunAsync(cancellationToken).AsTask();
                }

                await Task.WhenAll(runsInFlight).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"warm-up failed: {e.Message}", e);
            }
            finally
            {
                foreach (var l in leases)
                    l.Dispose();
            }
        }
    }

    private static void Prepare(InferenceLease lease, BindingManifest signature, OptimizationProfile? profile)
    {
        for (int i = 0; i < signature.Tensors.Count; i++)
        {
            var t = signature.Tensors[i];
            if (t.Mode != TensorMode.Input)
                continue;
            if (t.IsDynamic)
            {
                var range = profile?.Find(t.Name);
                long[] shape = new long[t.Rank];
                for (int d = 0; d < shape.Length; d++)
                    shape[d] = t.Shape[d] >= 0 ? t.Shape[d] : range is not null ? range.Opt[d] : 1;
                lease.SetInputShape(i, shape);
            }

            lease.GetInputSpan<byte>(i).Clear();
        }
    }
}
