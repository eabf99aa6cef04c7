namespace TypedTrt.Serving.KServe.Wire;

/// <summary>Shape arithmetic that refuses sizes over the limits before anything is allocated.</summary>
internal static class TensorShapes
{
    /// <summary>
    /// Checks a declared shape (rank, non-negative dims, element and byte counts within the limits, without overflow)
    /// and returns its element and byte counts.
    /// </summary>
    public static (long Elements, long Bytes) Measure(string what, ReadOnlySpan<long> shape, int elementSize, KServePayloadLimits limits)
    {
        if (shape.Length > limits.MaxRank)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"{what} has {shape.Length} dimensions; at most {limits.MaxRank} are accepted.");
        long elements = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d < 0)
                throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has dimension {i} = {d} in shape {KServeTensor.Format(shape)}; dimensions must be 0 or more.");
            // elements * d > max, without overflow
            if (d != 0 && elements > limits.MaxTensorElements / d)
            {
                // a later 0 makes the tensor empty; keep looking for one before refusing
                bool hasZero = false;
                for (int j = i + 1; j < shape.Length; j++)
                    hasZero |= shape[j] == 0;
                if (!hasZero)
                    throw new KServeException(KServeErrorKind.PayloadTooLarge, $"{what} has shape {KServeTensor.Format(shape)}, more than the {limits.MaxTensorElements} elements a tensor may have.");
                return (0, 0);
            }

            elements *= d;
        }

        long bytes = elements * elementSize; // elements <= MaxTensorElements (long), elementSize <= 8: no overflow for sane limits
        if (bytes > limits.MaxTensorBytes)
            throw new KServeException(KServeErrorKind.PayloadTooLarge, $"{what} has shape {KServeTensor.Format(shape)}: {bytes} bytes, more than the {limits.MaxTensorBytes} bytes a tensor may have.");
        return (elements, bytes);
    }
}
