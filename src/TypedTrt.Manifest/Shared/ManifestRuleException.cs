// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
using System;

namespace TypedTrt.Manifest.Shared;

/// <summary>A manifest breaks a rule of <see cref="ManifestReader{T}"/>: where (JSON path and node) and what.</summary>
#pragma warning disable CA1032, CA1064 // internal control flow of the shared reader; callers turn it into their own error type
internal sealed class ManifestRuleException : Exception
#pragma warning restore CA1032, CA1064
{
    public ManifestRuleException(string path, string reason, object? node)
        : base(path + ": " + reason)
    {
        JsonPath = path;
        Reason = reason;
        Node = node;
    }

    /// <summary>The JSON path of the offending value (<c>$</c> for the root).</summary>
    public string JsonPath { get; }

    /// <summary>What is wrong, as a sentence fragment without location.</summary>
    public string Reason { get; }

    /// <summary>The offending node of the adapter (for positions), or null.</summary>
    public object? Node { get; }

    /// <summary>Set when the schema is not <c>typedtrt.bindings/v1</c>: the schema text.</summary>
    public string? UnsupportedSchema { get; set; }
}
