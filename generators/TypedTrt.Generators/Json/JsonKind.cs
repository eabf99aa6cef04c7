namespace TypedTrt.Generators.Json;

/// <summary>The kinds of JSON values.</summary>
internal enum JsonKind
{
    Null,
    False,
    True,
    Number,
    String,
    Array,
    Object,
}
