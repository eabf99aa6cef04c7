using System.Reflection;
using Microsoft.CodeAnalysis;

namespace TypedTrt.Generators.Tests;

/// <summary>Pipeline models must be plain data: holding Roslyn objects would defeat caching and leak compilations.</summary>
public sealed class ModelTypeTests
{
    private static readonly Type[] Forbidden =
        [typeof(ISymbol), typeof(Compilation), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(AdditionalText), typeof(SemanticModel)];

    [Fact]
    public void ModelTypesHoldNoRoslynObjects()
    {
        var modelTypes = typeof(BindingGenerator).Assembly.GetTypes()
            .Where(t => t.Namespace == "TypedTrt.Generators.Model")
            .ToList();
        Assert.Contains(modelTypes, t => t.Name == "BindingModel");
        var seen = new HashSet<Type>();
        foreach (Type t in modelTypes)
            Check(t, t.Name, seen);
    }

    [Fact]
    public void ModelTypesAreEquatable()
    {
        foreach (Type t in typeof(BindingGenerator).Assembly.GetTypes().Where(t => t.Namespace == "TypedTrt.Generators.Model" && !t.IsAbstract && !t.IsGenericTypeDefinition && t.IsClass && !t.Name.Contains('<', StringComparison.Ordinal)))
        {
            bool equatable = t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>));
            Assert.True(equatable, $"{t.Name} is not IEquatable<T> (use a record)");
        }
    }

    private static void Check(Type type, string path, HashSet<Type> seen)
    {
        if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum)
            return;
        foreach (Type f in Forbidden)
            Assert.False(f.IsAssignableFrom(type), $"{path} is a {f.Name}");
        if (type.IsGenericType)
        {
            foreach (Type arg in type.GetGenericArguments())
                Check(arg, $"{path}<{arg.Name}>", seen);
        }

        if (type.IsArray)
            Check(type.GetElementType()!, path + "[]", seen);
        if (type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true && !type.IsGenericType)
            return;
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            Check(field.FieldType, $"{path}.{field.Name}", seen);
    }
}
