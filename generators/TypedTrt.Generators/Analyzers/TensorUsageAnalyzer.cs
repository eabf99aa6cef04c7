using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TypedTrt.Generators.Analyzers;

/// <summary>
/// Checks constant-size tensor data and constant shapes where generated code accepts them. Reads only the attributes the
/// generator put on the generated API (<c>TypedTrt.TensorElementCountAttribute</c>, <c>TensorShapeAttribute</c>,
/// <c>TensorDimRangeAttribute</c>); never the manifest.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TensorUsageAnalyzer : DiagnosticAnalyzer
{
    private const string ElementCountAttribute = "TypedTrt.TensorElementCountAttribute";
    private const string ShapeAttribute = "TypedTrt.TensorShapeAttribute";
    private const string DimRangeAttribute = "TypedTrt.TensorDimRangeAttribute";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DataLengthMismatch,
        DiagnosticDescriptors.DimOutOfRange,
        DiagnosticDescriptors.RankMismatch,
        DiagnosticDescriptors.StaticDimMismatch);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var types = new AttributeTypes(
                start.Compilation.GetTypeByMetadataName(ElementCountAttribute),
                start.Compilation.GetTypeByMetadataName(ShapeAttribute),
                start.Compilation.GetTypeByMetadataName(DimRangeAttribute));
            if (types.ElementCount is null && types.Shape is null)
                return;
            start.RegisterOperationAction(ctx =>
            {
                var assignment = (ISimpleAssignmentOperation)ctx.Operation;
                if (assignment.Target is IPropertyReferenceOperation { Property: var property })
                    Check(ctx, types, property, property.ContainingType.Name + "." + property.Name, assignment.Value);
                else if (assignment.Target is IFieldReferenceOperation { Field: var field })
                    Check(ctx, types, field, field.ContainingType.Name + "." + field.Name, assignment.Value);
            }, OperationKind.SimpleAssignment);
            start.RegisterOperationAction(ctx =>
            {
                var argument = (IArgumentOperation)ctx.Operation;
                if (argument.Parameter is { } parameter && argument.ArgumentKind == ArgumentKind.Explicit)
                {
                    string name = parameter.ContainingSymbol is IMethodSymbol method
                        ? $"{method.ContainingType.Name}.{method.Name}({parameter.Name})"
                        : parameter.Name;
                    Check(ctx, types, parameter, name, argument.Value);
                }
            }, OperationKind.Argument);
        });
    }

    private static void Check(OperationAnalysisContext ctx, AttributeTypes types, ISymbol member, string memberName, IOperation value)
    {
        long? count = null;
        long[]? shape = null;
        List<(int Dim, long Min, long Max)>? ranges = null;
        foreach (AttributeData a in member.GetAttributes())
        {
            INamedTypeSymbol? c = a.AttributeClass;
            if (c is null)
                continue;
            if (SymbolEqualityComparer.Default.Equals(c, types.ElementCount) && a.ConstructorArguments.Length == 1)
            {
                count = ToLong(a.ConstructorArguments[0].Value);
            }
            else if (SymbolEqualityComparer.Default.Equals(c, types.Shape) && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Kind == TypedConstantKind.Array)
            {
                shape = a.ConstructorArguments[0].Values.Select(v => ToLong(v.Value) ?? 0).ToArray();
            }
            else if (SymbolEqualityComparer.Default.Equals(c, types.DimRange) && a.ConstructorArguments.Length == 3)
            {
                (ranges ??= []).Add(((int)(ToLong(a.ConstructorArguments[0].Value) ?? -1), ToLong(a.ConstructorArguments[1].Value) ?? 0, ToLong(a.ConstructorArguments[2].Value) ?? long.MaxValue));
            }
        }

        if (count is null && shape is null)
            return;
        if (!ConstantSequence.TryRead(value, out ConstantSequence? seq))
            return;

        if (count is long expected && seq.Length != expected)
        {
            ctx.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.DataLengthMismatch,
                seq.Location,
                memberName,
                expected.ToString(CultureInfo.InvariantCulture),
                seq.Kind,
                seq.Length.ToString(CultureInfo.InvariantCulture)));
        }

        if (shape is null)
            return;
        if (seq.Length != shape.Length)
        {
            ctx.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.RankMismatch,
                seq.Location,
                memberName,
                shape.Length.ToString(CultureInfo.InvariantCulture),
                "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]",
                seq.Length.ToString(CultureInfo.InvariantCulture)));
            return;
        }

        for (int d = 0; d < shape.Length; d++)
        {
            if (seq.Values is null || seq.Values[d] is not long v)
                continue;
            Location where = seq.ElementLocations?[d] ?? seq.Location;
            string dim = d.ToString(CultureInfo.InvariantCulture);
            if (shape[d] >= 0)
            {
                if (v != shape[d])
                {
                    ctx.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.StaticDimMismatch, where, dim, memberName,
                        shape[d].ToString(CultureInfo.InvariantCulture), v.ToString(CultureInfo.InvariantCulture)));
                }

                continue;
            }

            foreach (var (dimIndex, min, max) in ranges ?? [])
            {
                if (dimIndex == d && (v < min || v > max))
                {
                    ctx.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DimOutOfRange, where, dim, memberName, v.ToString(CultureInfo.InvariantCulture),
                        min.ToString(CultureInfo.InvariantCulture), max.ToString(CultureInfo.InvariantCulture)));
                }
            }
        }
    }

    private static long? ToLong(object? value) => value switch
    {
        long l => l,
        int i => i,
        short s => s,
        sbyte b => b,
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u when u <= long.MaxValue => (long)u,
        _ => null,
    };

    private sealed class AttributeTypes(INamedTypeSymbol? elementCount, INamedTypeSymbol? shape, INamedTypeSymbol? dimRange)
    {
        public INamedTypeSymbol? ElementCount { get; } = elementCount;

        public INamedTypeSymbol? Shape { get; } = shape;

        public INamedTypeSymbol? DimRange { get; } = dimRange;
    }

    /// <summary>A value whose length is known at compile time, with the constant values of its elements where known.</summary>
    private sealed class ConstantSequence
    {
        private ConstantSequence(long length, string kind, Location location, long?[]? values, Location?[]? elementLocations)
        {
            Length = length;
            Kind = kind;
            Location = location;
            Values = values;
            ElementLocations = elementLocations;
        }

        public long Length { get; }

        public string Kind { get; }

        public Location Location { get; }

        public long?[]? Values { get; }

        public Location?[]? ElementLocations { get; }

        public static bool TryRead(IOperation value, out ConstantSequence result)
        {
            result = null!;
            SemanticModel? model = value.SemanticModel;
            for (int guard = 0; guard < 8; guard++)
            {
                SyntaxNode syntax = value.Syntax;
                switch (syntax)
                {
                    case CollectionExpressionSyntax collection when model is not null:
                        if (collection.Elements.Any(e => e is not ExpressionElementSyntax))
                            return false;
                        var exprs = collection.Elements.Cast<ExpressionElementSyntax>().Select(e => e.Expression).ToList();
                        result = FromExpressions(exprs, model, "collection expression", collection.GetLocation());
                        return true;
                    case StackAllocArrayCreationExpressionSyntax stackAlloc when model is not null:
                        if (stackAlloc.Initializer is { } init)
                        {
                            result = FromExpressions(init.Expressions.ToList(), model, "stackalloc", stackAlloc.GetLocation());
                            return true;
                        }

                        if (stackAlloc.Type is ArrayTypeSyntax arrayType
                            && arrayType.RankSpecifiers.Count == 1
                            && arrayType.RankSpecifiers[0].Sizes.Count == 1
                            && ToLong(model.GetConstantValue(arrayType.RankSpecifiers[0].Sizes[0]).Value) is long n)
                        {
                            result = new ConstantSequence(n, "stackalloc", stackAlloc.GetLocation(), null, null);
                            return true;
                        }

                        return false;
                    case ImplicitStackAllocArrayCreationExpressionSyntax implicitStackalloc when model is not null:
                        result = FromExpressions(implicitStackalloc.Initializer.Expressions.ToList(), model, "stackalloc", implicitStackalloc.GetLocation());
                        return true;
                }

                switch (value)
                {
                    case IConversionOperation conversion:
                        value = conversion.Operand;
                        continue;
                    case IArrayCreationOperation array when array.DimensionSizes.Length == 1:
                        if (array.Initializer is { } initializer)
                        {
                            var elements = initializer.ElementValues;
                            var values = new long?[elements.Length];
                            var locations = new Location?[elements.Length];
                            for (int i = 0; i < elements.Length; i++)
                            {
                                values[i] = elements[i].ConstantValue.HasValue ? ToLong(elements[i].ConstantValue.Value) : null;
                                locations[i] = elements[i].Syntax.GetLocation();
                            }

                            result = new ConstantSequence(elements.Length, "array", array.Syntax.GetLocation(), values, locations);
                            return true;
                        }

                        if (array.DimensionSizes[0].ConstantValue is { HasValue: true, Value: var size2 } && ToLong(size2) is long length)
                        {
                            result = new ConstantSequence(length, "array", array.Syntax.GetLocation(), null, null);
                            return true;
                        }

                        return false;
                    case IObjectCreationOperation creation
                        when creation.Arguments.Length == 1
                            && creation.Type is INamedTypeSymbol { Name: "Memory" or "ReadOnlyMemory" or "Span" or "ReadOnlySpan", ContainingNamespace.Name: "System" }:
                        value = creation.Arguments[0].Value;
                        continue;
                    default:
                        return false;
                }
            }

            return false;
        }

        private static ConstantSequence FromExpressions(List<ExpressionSyntax> expressions, SemanticModel model, string kind, Location location)
        {
            var values = new long?[expressions.Count];
            var locations = new Location?[expressions.Count];
            for (int i = 0; i < expressions.Count; i++)
            {
                Optional<object?> c = model.GetConstantValue(expressions[i]);
                values[i] = c.HasValue ? ToLong(c.Value) : null;
                locations[i] = expressions[i].GetLocation();
            }

            return new ConstantSequence(expressions.Count, kind, location, values, locations);
        }
    }
}
