using System.Text;

namespace TypedTrt.Generators;

/// <summary>A minimal indented text writer for emitting C# (four spaces per level, <c>\n</c> line endings).</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public void Line() => _sb.Append('\n');

    public void Line(string text)
    {
        if (text.Length > 0)
            _sb.Append(' ', _indent * 4);
        _sb.Append(text).Append('\n');
    }

    public void Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _sb.ToString();
}
