using System.Numerics.Tensors;
using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

/// <summary>
/// Exclusive use of one slot: fill inputs in place in pinned memory, run, read outputs in place. Dispose to return
/// the slot. Not thread-safe; one request at a time per lease.
/// </summary>
/// <remarks>
/// Spans returned by this lease point into the slot's buffers: they are valid until the next <see cref="SetInputShape"/>
/// or <see cref="RunAsync"/> and must not be used after <see cref="Dispose"/>. Disposing while a request is in flight
/// returns the slot when that request completes.
/// <para>With dynamic batching (<see cref="InferenceRunnerOptions.Batching"/>) a lease is one request in the batch
/// queue, not a slot: <see cref="InferenceRunner.AcquireAsync"/> returns at once, the spans are pooled staging memory
/// of the request (sized to its rows), <see cref="RunAsync"/> queues the rows and completes when their batch is done,
/// and the output spans hold exactly this request's rows. Each request then costs one host copy of its rows in and
/// out (staging ↔ slot); the convenience <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>
/// copies caller memory straight into the slot instead. <see cref="SlotIndex"/> is the slot of the last batch, or -1.</para>
/// </remarks>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
public readonly partial struct InferenceLease : IDisposable, IEquatable<InferenceLease>
{
    // The slot and the lease version it was handed out under: the slot bumps its version when the lease is disposed,
    // so a copy of a disposed lease fails with ObjectDisposedException even after the slot was leased again. A struct,
    // so a request allocates nothing.
    // With batching the lease holds a queued request (Batching.BatchRequest) instead of a slot; exactly one is set.
    private readonly RunnerSlot? _slot;
    private readonly Batching.BatchRequest? _request;
    private readonly int _version;

    internal InferenceLease(RunnerSlot slot)
    {
        _slot = slot;
        _request = null;
        _version = Volatile.Read(ref slot.LeaseVersion);
    }

    internal InferenceLease(Batching.BatchRequest request)
    {
        _slot = null;
        _request = request;
        _version = Volatile.Read(ref request.LeaseVersion);
    }

    private RunnerSlot Slot =>
        _slot is { } s && Volatile.Read(ref s.LeaseVersion) == _version ? s : throw new ObjectDisposedException(nameof(InferenceLease));

    private Batching.BatchRequest Request =>
        Volatile.Read(ref _request!.LeaseVersion) == _version ? _request : throw new ObjectDisposedException(nameof(InferenceLease));

    /// <summary>Whether the lease is still valid (not disposed, not default).</summary>
    public bool IsActive => _slot is { } s ? Volatile.Read(ref s.LeaseVersion) == _version : _request is { } r && Volatile.Read(ref r.LeaseVersion) == _version;

    /// <inheritdoc/>
    public bool Equals(InferenceLease other) => ReferenceEquals(_slot, other._slot) && ReferenceEquals(_request, other._request) && _version == other._version;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InferenceLease o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_slot, _request, _version);

    /// <summary>Same slot and lease version.</summary>
    public static bool operator ==(InferenceLease left, InferenceLease right) => left.Equals(right);

    /// <summary>Different slot or lease version.</summary>
    public static bool operator !=(InferenceLease left, InferenceLease right) => !left.Equals(right);

    /// <summary>The index of the leased slot (0..<see cref="InferenceRunner.SlotCount"/>-1).</summary>
    public int SlotIndex => _request is not null ? Request.SlotIndex : Slot.Index;

    /// <summary>Sets a dynamic input's concrete shape; checked against rank and the profile's min..max.</summary>
    /// <exception cref="ArgumentException">Wrong rank, or a dimension outside the profile's range (the message names tensor, dimension and range).</exception>
    public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        if (_request is not null)
            Request.SetInputShape(tensorIndex, dims);
        else
            Slot.SetInputShape(tensorIndex, dims);
    }

    /// <summary>The input's current shape.</summary>
    public ReadOnlySpan<long> GetInputShape(int tensorIndex) => _request is not null ? Request.GetInputShape(tensorIndex) : Slot.GetInputShape(tensorIndex);

    /// <summary>The slot's pinned host buffer for an input, sized to its current shape. <typeparamref name="T"/> is the dtype's element type, or <see cref="byte"/> for raw bytes.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> does not match the tensor's type.</exception>
    public Span<T> GetInputSpan<T>(int tensorIndex)
        where T : unmanaged => _request is not null ? Request.GetInputSpan<T>(tensorIndex) : Slot.GetInputSpan<T>(tensorIndex);

    /// <summary>The input's buffer as a tensor span of its current shape (linear layouts only).</summary>
    public TensorSpan<T> GetInputTensorSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        var span = GetInputSpan<T>(tensorIndex);
        ReadOnlySpan<long> shape = GetInputShape(tensorIndex);
        Span<nint> lengths = stackalloc nint[shape.Length];
        var binding = _request is not null ? Request.GetPlan(tensorIndex, TensorMode.Input).Binding : Slot.GetPlan(tensorIndex, TensorMode.Input).Binding;
        int count = ComputeLengths(binding, shape, lengths, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return new TensorSpan<T>(span[..count], lengths);
    }

    /// <summary>Copies inputs to the device, runs the engine, copies outputs back; completes when this slot's work is done.</summary>
    /// <exception cref="OperationCanceledException">Cancelled before the request was enqueued.</exception>
    /// <exception cref="InvalidOperationException">A dynamic input has no shape, or a request is already in flight.</exception>
    public ValueTask RunAsync(CancellationToken cancellationToken = default) =>
        _request is not null ? Request.RunLeaseAsync(cancellationToken) : Slot.RunAsync(cancellationToken);

    /// <summary>The resolved shape of an output after <see cref="RunAsync"/>.</summary>
    public ReadOnlySpan<long> GetOutputShape(int tensorIndex) => _request is not null ? Request.GetOutputShape(tensorIndex) : Slot.GetOutputShape(tensorIndex);

    /// <summary>The slot's pinned host buffer for an output, sized to its resolved shape.</summary>
    public ReadOnlySpan<T> GetOutputSpan<T>(int tensorIndex)
        where T : unmanaged => _request is not null ? Request.GetOutputSpan<T>(tensorIndex) : Slot.GetOutputSpan<T>(tensorIndex);

    /// <summary>The output's buffer as a read-only tensor span of its resolved shape (linear layouts only).</summary>
    public ReadOnlyTensorSpan<T> GetOutputTensorSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        var span = GetOutputSpan<T>(tensorIndex);
        ReadOnlySpan<long> shape = GetOutputShape(tensorIndex);
        Span<nint> lengths = stackalloc nint[shape.Length];
        var binding = _request is not null ? Request.GetPlan(tensorIndex, TensorMode.Output).Binding : Slot.GetPlan(tensorIndex, TensorMode.Output).Binding;
        int count = ComputeLengths(binding, shape, lengths, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return new ReadOnlyTensorSpan<T>(span[..count], lengths);
    }

    private static int ComputeLengths(TensorBinding binding, ReadOnlySpan<long> shape, Span<nint> lengths, int elementSize)
    {
        if (DataTypes.BitsPerElement(binding.DataType) != 8 * elementSize)
            throw new ArgumentException($"Tensor '{binding.Name}' has type '{binding.DTypeName}'; a tensor span needs its element type, not raw bytes.");
        if (binding.Layout is { ComponentsPerElement: > 1 })
            throw new NotSupportedException($"Tensor '{binding.Name}' uses the vectorized format {binding.Layout.Format}; read it with GetInputSpan/GetOutputSpan.");
        long n = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            lengths[i] = checked((nint)shape[i]);
            n *= shape[i];
        }

        return checked((int)n);
    }

    /// <summary>Returns the slot to the runner (once; later calls on any copy of this lease do nothing).</summary>
    public void Dispose()
    {
        if (_request is not null)
            _request.Release(_version);
        else
            _slot?.Release(_version);
    }
}
