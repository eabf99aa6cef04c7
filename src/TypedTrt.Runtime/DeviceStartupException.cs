using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

/// <summary>
/// One device of an <see cref="InferenceRunner"/> could not be started (its primary context, engine, execution
/// contexts, streams or buffers). The runner freed what it had created on every device. <see cref="Exception.InnerException"/>
/// is the cause: a <see cref="CudaException"/> with the CUDA error (e.g. <c>CUDA_ERROR_INVALID_DEVICE</c> for an ordinal
/// that does not exist, <c>CUDA_ERROR_OUT_OF_MEMORY</c>), or what the engine factory threw.
/// </summary>
public sealed class DeviceStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeviceStartupException()
        : this(-1, "A device failed to start.", null)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DeviceStartupException(string message)
        : this(-1, message, null)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DeviceStartupException(string message, Exception? innerException)
        : this(-1, message, innerException)
    {
    }

    /// <summary>Creates the exception for device <paramref name="deviceOrdinal"/>.</summary>
    public DeviceStartupException(int deviceOrdinal, string message, Exception? innerException)
        : base(message, innerException)
    {
        DeviceOrdinal = deviceOrdinal;
    }

    /// <summary>The ordinal of the device that failed (-1 when unknown).</summary>
    public int DeviceOrdinal { get; }

    /// <summary>The CUDA error code (<c>CUresult</c>) when the cause is a <see cref="CudaException"/>, else <see langword="null"/>.</summary>
    public int? CudaError => InnerException is CudaException c ? c.Result : null;

    internal static DeviceStartupException For(int ordinal, string stage, Exception cause)
    {
        string visible = "";
        if (cause is CudaException { Result: 101 } && CudaDriver.IsAvailable)
        {
            int n = CudaDriver.DeviceCount;
            visible = n > 0 ? $" This process sees {n} device(s), ordinals 0..{n - 1}; check InferenceRunnerOptions.Devices and CUDA_VISIBLE_DEVICES." : " This process sees no device.";
        }

        return new DeviceStartupException(ordinal, $"Device {ordinal} failed to start ({stage}): {cause.Message}{visible}", cause);
    }
}
