namespace TypedTrt.Serving.KServe.Wire;

/// <summary>bfloat16 conversions (the upper 16 bits of an IEEE single, rounded to nearest even).</summary>
internal static class BFloat16
{
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040); // keep the sign, make it a quiet NaN
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToSingle(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);
}
