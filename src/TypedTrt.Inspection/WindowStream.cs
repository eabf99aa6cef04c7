namespace TypedTrt.Inspection;

/// <summary>
/// A read-only, seekable stream that keeps one window of the file in memory. Unlike <see cref="BufferedStream"/>,
/// seeking never throws the window away, so moving back into it (as <see cref="WireReader"/> does after each skip)
/// costs no I/O; a read outside the window refills it at the read position.
/// </summary>
internal sealed class WindowStream(Stream inner, int windowSize) : Stream
{
    private readonly byte[] _window = new byte[windowSize];
    private long _windowStart;
    private int _windowLength;
    private long _position;
    private readonly long _length = inner.Length;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>The bytes of the window from <paramref name="position"/> on, if the window holds that position.</summary>
    public bool TryGetWindow(long position, out byte[] window, out int offset, out int available)
    {
        window = _window;
        offset = (int)Math.Clamp(position - _windowStart, 0, _windowLength);
        available = _windowLength - offset;
        return position >= _windowStart && position < _windowStart + _windowLength;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _position >= _length)
            return 0;
        if (_position < _windowStart || _position >= _windowStart + _windowLength)
        {
            inner.Position = _position;
            _windowStart = _position;
            _windowLength = 0;
            while (_windowLength < _window.Length)
            {
                int n = inner.Read(_window, _windowLength, _window.Length - _windowLength);
                if (n == 0)
                    break;
                _windowLength += n;
            }

            if (_windowLength == 0)
                return 0;
        }

        int at = (int)(_position - _windowStart);
        int count = Math.Min(buffer.Length, _windowLength - at);
        _window.AsSpan(at, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => _length + offset,
    };

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
