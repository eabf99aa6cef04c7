namespace TypedTrt.Runtime.Cuda;

/// <summary>A kernel of a loaded module; valid while the module is loaded.</summary>
public readonly struct CudaFunction : IEquatable<CudaFunction>
{
    internal CudaFunction(nint handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    /// <summary>The raw <c>CUfunction</c>.</summary>
    public nint Handle { get; }

    /// <summary>The kernel's name.</summary>
    public string Name { get; }

    /// <summary>
    /// Launches the kernel (<c>cuLaunchKernel</c>) on <paramref name="stream"/>. <paramref name="arguments"/> holds one
    /// pointer per kernel parameter, each pointing at that parameter's value. The caller's context must be current.
    /// </summary>
    public unsafe void Launch(uint gridX, uint blockX, nint stream, ReadOnlySpan<nint> arguments, uint sharedMemoryBytes = 0)
    {
        fixed (nint* args = arguments)
        {
            CudaException.Check(
                CudaNative.cuLaunchKernel(Handle, gridX, 1, 1, blockX, 1, 1, sharedMemoryBytes, stream, (void**)args, null),
                "cuLaunchKernel");
        }
    }

    /// <inheritdoc/>
    public bool Equals(CudaFunction other) => Handle == other.Handle;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CudaFunction f && Equals(f);

    /// <inheritdoc/>
    public override int GetHashCode() => Handle.GetHashCode();

    /// <summary>Equality by handle.</summary>
    public static bool operator ==(CudaFunction left, CudaFunction right) => left.Equals(right);

    /// <summary>Inequality by handle.</summary>
    public static bool operator !=(CudaFunction left, CudaFunction right) => !left.Equals(right);
}
