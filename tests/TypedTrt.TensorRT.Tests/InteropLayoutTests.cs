using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT.Tests;

public class InteropLayoutTests
{
    [Fact]
    public void Dims_matches_ttrt_dims_72_bytes_with_d_at_8()
    {
        Assert.Equal(72, Unsafe.SizeOf<TtrtDims>());
        Assert.Equal(72, Marshal.SizeOf<TtrtDims>());
        Assert.Equal(8, (int)Marshal.OffsetOf<TtrtDims>(nameof(TtrtDims.D)));
        Assert.Equal(8, TtrtDims.MaxDims);
    }

    [Fact]
    public void TensorInfo_matches_ttrt_tensor_info_112_bytes()
    {
        Assert.Equal(112, Unsafe.SizeOf<TtrtTensorInfo>());
        Assert.Equal(112, Marshal.SizeOf<TtrtTensorInfo>());
        string[] fields =
        [
            nameof(TtrtTensorInfo.IoMode), nameof(TtrtTensorInfo.DataType), nameof(TtrtTensorInfo.Location),
            nameof(TtrtTensorInfo.IsShapeInferenceIo), nameof(TtrtTensorInfo.Format), nameof(TtrtTensorInfo.VectorizedDim),
            nameof(TtrtTensorInfo.ComponentsPerElement), nameof(TtrtTensorInfo.BytesPerComponent), nameof(TtrtTensorInfo.Profile),
            nameof(TtrtTensorInfo.Reserved),
        ];
        for (int i = 0; i < fields.Length; i++)
            Assert.Equal(4 * i, (int)Marshal.OffsetOf<TtrtTensorInfo>(fields[i]));
        Assert.Equal(40, (int)Marshal.OffsetOf<TtrtTensorInfo>(nameof(TtrtTensorInfo.Shape)));
    }

    [Fact]
    public void Dims_round_trip_and_rank_limit()
    {
        var d = TtrtDims.From([1, 3, -1, 640]);
        Assert.Equal(4, d.NbDims);
        Assert.Equal([1L, 3, -1, 640], d.ToArray());
        Assert.Throws<ArgumentException>(() => TtrtDims.From(new long[9]));
    }

    [Fact]
    public void Version_decoding_follows_TensorRT_encoding() =>
        Assert.Equal(new Version(10, 16, 1), TensorRtRuntime.Decode(101601));
}
