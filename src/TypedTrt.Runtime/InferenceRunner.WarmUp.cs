using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

public sealed partial class InferenceRunner
{
    /// <summary>
    /// Runs every slot <paramref name="runsPerSlot"/> times, one slot after the other, on zero-filled inputs (dynamic
    /// inputs at their largest shape), so first-run costs (backend allocations, kernel selection, ONNX Runtime's CUDA
    /// graph capture) happen before traffic and never while another slot captures. Leases every slot for the duration:
    /// call it before serving.
    /// </summary>
    /// <param name="runsPerSlot">Runs per slot (≥ 1). ONNX Runtime's CUDA graphs need 3: a regular run, the capture, a replay.</param>
    /// <param name="cancellationToken">Observed between runs.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="runsPerSlot"/> is below 1.</exception>
    public async ValueTask WarmUpAsync(int runsPerSlot = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runsPerSlot, 1);
        var leases = new InferenceLease[SlotCount];
        int taken = 0;
        try
        {
            for (; taken < leases.Length; taken++)
                leases[taken] = await AcquireAsync(cancellationToken).ConfigureAwait(false);
            foreach (var lease in leases)
            {
                for (int i = 0; i < Signature.Tensors.Count; i++)
                {
                    var t = Signature.Tensors[i];
                    if (t.Mode != TensorMode.Input)
                        continue;
                    if (t.IsDynamic)
                        lease.SetInputShape(i, GetMaxShape(i));
                    lease.GetInputSpan<byte>(i).Clear();
                }

                for (int r = 0; r < runsPerSlot; r++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await lease.RunAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            for (int i = 0; i < taken; i++)
                leases[i].Dispose();
        }
    }
}
