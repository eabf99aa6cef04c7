using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace TypedTrt.Generators;

/// <summary>
/// Every diagnostic TypedTrt reports. IDs are stable: <c>TTRT0xxx</c> come from the generator and point into the
/// manifest file; <c>TTRT1xxx</c> come from the analyzer and point at C# code. See docs/diagnostics.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string GeneratorCategory = "TypedTrt.Generator";
    private const string UsageCategory = "TypedTrt.Usage";
    private const string HelpBase = "https://github.com/typedtrt/typedtrt/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor InvalidJson = new(
        "TTRT0001",
        "Binding manifest is not valid JSON",
        "The binding manifest is not valid JSON: {0}",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The .bindings.json file could not be parsed. It is normally written by 'typedtrt inspect'; if it was edited by hand, fix the JSON at the position shown, or delete it and rebuild to re-run the inspector.",
        helpLinkUri: HelpBase + "ttrt0001");

    public static readonly DiagnosticDescriptor UnsupportedSchema = new(
        "TTRT0002",
        "Unsupported binding manifest schema",
        "Schema '{0}' is not supported by this TypedTrt, which reads 'typedtrt.bindings/v1'; update the TypedTrt package, or regenerate the manifest with this version's inspector",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The manifest names a schema this generator does not read. Manifests from a newer inspector need a newer TypedTrt package.",
        helpLinkUri: HelpBase + "ttrt0002");

    public static readonly DiagnosticDescriptor UnsupportedDataType = new(
        "TTRT0003",
        "Tensor element type cannot be bound",
        "Tensor '{0}' has element type '{1}', which TensorRT cannot bind; it is left out of the generated {2} types",
        GeneratorCategory,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "TensorRT binds float, half, int8, int32, int64, uint8, bool, bf16, fp8, int4, fp4 and e8m0. Cast the tensor in the model (e.g. double to float) and re-export it.",
        helpLinkUri: HelpBase + "ttrt0003");

    public static readonly DiagnosticDescriptor InvalidManifest = new(
        "TTRT0004",
        "Invalid binding manifest",
        "The binding manifest is invalid at {0}: {1}",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The manifest is valid JSON but does not follow the typedtrt.bindings/v1 schema. Regenerate it with 'typedtrt inspect'.",
        helpLinkUri: HelpBase + "ttrt0004");

    public static readonly DiagnosticDescriptor NameCollision = new(
        "TTRT0005",
        "Tensor names map to the same C# identifier",
        "Tensor '{0}' maps to the C# name '{1}', which is already taken by {2}; it is named '{3}' instead",
        GeneratorCategory,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Tensor names become PascalCase identifiers with every character that cannot appear in an identifier treated as a word break, so different names can map to the same identifier. The later tensor gets a numeric suffix; rename the tensor in the model for a stable name.",
        helpLinkUri: HelpBase + "ttrt0005");

    public static readonly DiagnosticDescriptor StaleManifest = new(
        "TTRT0006",
        "Binding manifest does not match its model file",
        "The manifest was made from '{0}' with SHA-256 {1}, but the file now has SHA-256 {2}; regenerate it with 'typedtrt inspect {0} --format json --out {3}'",
        GeneratorCategory,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A checked-in .bindings.json sidecar no longer describes its engine or ONNX file, so the generated types may not match the model. Re-run the inspector, or reference the model file itself so the build inspects it.",
        helpLinkUri: HelpBase + "ttrt0006");

    public static readonly DiagnosticDescriptor InvalidMetadata = new(
        "TTRT0007",
        "Invalid TensorRTEngine item metadata",
        "{0} '{1}' is not valid: {2}",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "ClassName must be a C# identifier that can name a type: not a keyword, not all lower-case ASCII (contextual keywords such as 'file', 'required', 'scoped' cannot name types), not a member of the generated class (Signature, Tensors, ...). Namespace must be a dotted list of identifiers, Streams an integer from 1 to 1024, Access Public or Internal.",
        helpLinkUri: HelpBase + "ttrt0007");

    public static readonly DiagnosticDescriptor DuplicateType = new(
        "TTRT0008",
        "Two models would generate the same type",
        "{0} would generate type '{2}', which {1} already generates; no code is generated for {0}. Give it a distinct ClassName, e.g. ClassName=\"{3}\" on its TensorRTEngine item.",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The class name defaults to the model's file name, so encoder/model.onnx and decoder/model.onnx both become 'Model'. The first manifest (by path) generates its types; set ClassName (or Namespace) on the other items.",
        helpLinkUri: HelpBase + "ttrt0008");

    public static readonly DiagnosticDescriptor RankAboveTensorRT = new(
        "TTRT0009",
        "Tensor rank exceeds TensorRT's limit",
        "Tensor '{0}' has rank {1}, but TensorRT supports at most 8 dimensions; this engine manifest cannot describe a real engine",
        GeneratorCategory,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "TensorRT's Dims hold at most 8 dimensions (nvinfer1::Dims::MAX_DIMS). An engine manifest with more was not made by the inspector from a real engine; regenerate it.",
        helpLinkUri: HelpBase + "ttrt0009");

    public static readonly DiagnosticDescriptor DynamicInputWithoutRange = new(
        "TTRT0010",
        "Dynamic input has no optimization profile range",
        "Input '{0}' {1} has dynamic dimensions, but {2}; creating a runner will fail until it has a range",
        GeneratorCategory,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Runners size their buffers from the optimization profile's maximum, so every dynamic input needs a range. For ONNX models give one with Profile=\"name=min..max:opt\" (or by index for unnamed dims, e.g. state[1]=1..8:1) on the TensorRTEngine item; engines carry their profiles.",
        helpLinkUri: HelpBase + "ttrt0010");

    public static readonly DiagnosticDescriptor InternalError = new(
        "TTRT0099",
        "The TypedTrt generator failed",
        "The TypedTrt generator failed on '{0}' ({1}); no code was generated for it. Please report this with the manifest.",
        GeneratorCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An unexpected exception inside the generator. It is reported instead of crashing the build (which would only give warning CS8785 and no types).",
        helpLinkUri: HelpBase + "ttrt0099");

    public static readonly DiagnosticDescriptor DataLengthMismatch = new(
        "TTRT1001",
        "Tensor data has the wrong length",
        "'{0}' needs exactly {1} elements, but this {2} has {3}",
        UsageCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The tensor has a static shape, so its data must have exactly as many elements as the shape; a constant-size array, collection expression or stackalloc of another length fails at run time. Use the generated ElementCount constant.",
        helpLinkUri: HelpBase + "ttrt1001");

    public static readonly DiagnosticDescriptor DimOutOfRange = new(
        "TTRT1002",
        "Dimension outside the optimization profile",
        "Dimension {0} of '{1}' is {2}, outside the optimization profile's range {3}..{4}",
        UsageCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A dynamic dimension must lie within the engine's optimization profile, or the engine rejects the shape at run time. Rebuild the engine with a wider profile, or split the work.",
        helpLinkUri: HelpBase + "ttrt1002");

    public static readonly DiagnosticDescriptor RankMismatch = new(
        "TTRT1003",
        "Shape has the wrong rank",
        "'{0}' has rank {1} (shape {2}), but this shape has {3} dimensions",
        UsageCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A shape must give one value per dimension of the tensor.",
        helpLinkUri: HelpBase + "ttrt1003");

    public static readonly DiagnosticDescriptor StaticDimMismatch = new(
        "TTRT1004",
        "Shape changes a static dimension",
        "Dimension {0} of '{1}' is fixed at {2}, but this shape gives {3}",
        UsageCategory,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Only dynamic (-1) dimensions of a tensor can vary; the others must equal the model's value.",
        helpLinkUri: HelpBase + "ttrt1004");

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new()
    {
        [InvalidJson.Id] = InvalidJson,
        [UnsupportedSchema.Id] = UnsupportedSchema,
        [UnsupportedDataType.Id] = UnsupportedDataType,
        [InvalidManifest.Id] = InvalidManifest,
        [NameCollision.Id] = NameCollision,
        [StaleManifest.Id] = StaleManifest,
        [InvalidMetadata.Id] = InvalidMetadata,
        [DuplicateType.Id] = DuplicateType,
        [RankAboveTensorRT.Id] = RankAboveTensorRT,
        [DynamicInputWithoutRange.Id] = DynamicInputWithoutRange,
        [InternalError.Id] = InternalError,
    };

    public static DiagnosticDescriptor Get(string id) => ById[id];
}
