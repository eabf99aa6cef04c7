using System.Text;

namespace TypedTrt.TensorRT.Interop;

/// <summary>Helpers around <see cref="NativeMethods"/>: status checks, the string out-parameter convention, UTF-8 names.</summary>
internal static unsafe class Native
{
    /// <summary>Delegate shape of the ABI's string out-parameter functions: (buf, cap, len_out).</summary>
    internal delegate int StringGetter(byte* buf, int cap, int* lenOut);

    /// <summary>Throws a <see cref="TensorRtException"/> (or a subclass) carrying this thread's error text when <paramref name="status"/> is not OK.</summary>
    /// <param name="status">What the call returned.</param>
    /// <param name="function">The ABI function's name, e.g. <c>ttrt_engine_deserialize</c>.</param>
    internal static void Check(int status, string function)
    {
        if (status != Status.Ok)
            throw Error(status, function);
    }

    /// <summary>The exception for a failed call; reads the error text first, before any other ABI call on this thread.</summary>
    internal static TensorRtException Error(int status, string function)
    {
        string text = LastError();
        return status == Status.LibraryNotFound
            ? new TensorRtUnavailableException(
                $"{function} failed: {text}{Environment.NewLine}The TypedTrt shim was found, but the TensorRT runtime library it needs was not; see docs/tensorrt.md.",
                (TensorRtStatus)status, function, text, [])
            : new TensorRtException((TensorRtStatus)status, function, text);
    }

    /// <summary>This thread's error text from the last failed ABI call.</summary>
    internal static string LastError()
    {
        Span<byte> stack = stackalloc byte[512];
        int len = 0;
        fixed (byte* p = stack)
        {
            int s = NativeMethods.LastError(p, stack.Length, &len);
            if (s == Status.Ok)
                return Encoding.UTF8.GetString(stack[..len]);
        }

        if (len <= 0)
            return "";
        var heap = new byte[len + 1];
        fixed (byte* p = heap)
        {
            int s = NativeMethods.LastError(p, heap.Length, &len);
            return s == Status.Ok ? Encoding.UTF8.GetString(heap, 0, len) : "(the error text could not be read)";
        }
    }

    /// <summary>Reads a string with the ABI's (buf, cap, len_out) convention: size query, then copy.</summary>
    internal static string GetString(StringGetter getter, string function)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int len = 0;
            Check(getter(null, 0, &len), function);
            var buf = new byte[len + 1];
            fixed (byte* p = buf)
            {
                int s = getter(p, buf.Length, &len);
                if (s == Status.BufferTooSmall)
                    continue; // changed between the calls; ask again
                Check(s, function);
            }

            return Encoding.UTF8.GetString(buf, 0, len);
        }

        throw new TensorRtException(TensorRtStatus.BufferTooSmall, function, "the string kept growing between the size query and the copy");
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/>, to pin and pass as <c>const char*</c>.</summary>
    internal static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
