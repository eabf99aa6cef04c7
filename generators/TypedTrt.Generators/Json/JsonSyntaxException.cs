using System;

namespace TypedTrt.Generators.Json;

/// <summary>Malformed JSON at a character offset.</summary>
internal sealed class JsonSyntaxException : Exception
{
    public JsonSyntaxException(int offset, string message)
        : base(message)
    {
        Offset = offset;
    }

    public int Offset { get; }
}
