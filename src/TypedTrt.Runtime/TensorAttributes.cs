namespace TypedTrt;

/// <summary>
/// Put by the TypedTrt generator on generated members that take a static tensor's data: the exact number of elements
/// (of the member's element type) the data must have. The TypedTrt analyzer (TTRT1001) reads it at call sites.
/// </summary>
/// <param name="count">The required element count.</param>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field, Inherited = false)]
public sealed class TensorElementCountAttribute(long count) : Attribute
{
    /// <summary>The required element count.</summary>
    public long Count { get; } = count;
}

/// <summary>
/// Put by the TypedTrt generator on generated members that take a tensor's shape: the model's shape, -1 marking dynamic
/// dimensions. The TypedTrt analyzer checks constant shapes' rank (TTRT1003) and static dimensions (TTRT1004).
/// </summary>
/// <param name="shape">The model's shape.</param>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field, Inherited = false)]
public sealed class TensorShapeAttribute(params long[] shape) : Attribute
{
    /// <summary>The model's shape; -1 marks a dynamic dimension.</summary>
    public IReadOnlyList<long> Shape { get; } = shape;
}

/// <summary>
/// Put by the TypedTrt generator on generated members that take a tensor's shape, once per dynamic dimension: the
/// range optimization profile 0 allows. The TypedTrt analyzer checks constant dimensions against it (TTRT1002).
/// </summary>
/// <param name="dimension">The dimension's index.</param>
/// <param name="min">The smallest allowed value.</param>
/// <param name="max">The largest allowed value.</param>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field, AllowMultiple = true, Inherited = false)]
public sealed class TensorDimRangeAttribute(int dimension, long min, long max) : Attribute
{
    /// <summary>The dimension's index.</summary>
    public int Dimension { get; } = dimension;

    /// <summary>The smallest allowed value.</summary>
    public long Min { get; } = min;

    /// <summary>The largest allowed value.</summary>
    public long Max { get; } = max;
}
