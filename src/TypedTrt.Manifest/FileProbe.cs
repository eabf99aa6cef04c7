using System.Runtime.InteropServices;

namespace TypedTrt.Manifest;

/// <summary>What a path names, as the file system reports it without opening the file.</summary>
internal enum FileKind
{
    /// <summary>Nothing exists there (a dangling link counts as missing).</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe (FIFO): opening it waits for a writer, reading it may never end.</summary>
    Fifo,

    /// <summary>A character device such as <c>/dev/null</c>, <c>/dev/zero</c> or a terminal.</summary>
    CharacterDevice,

    /// <summary>A block device (a disk).</summary>
    BlockDevice,

    /// <summary>A socket.</summary>
    Socket,

    /// <summary>Something else the file system names but that is none of the above.</summary>
    Other,

    /// <summary>The file system would not describe the path (e.g. no permission on a folder); opening it will say why.</summary>
    Unknown,
}

/// <summary>A path's kind and, where the platform says, the identity of the file it names (links followed).</summary>
/// <param name="Kind">What the path names.</param>
/// <param name="Device">The device holding the file (with <paramref name="Inode"/>: the file's identity), when <paramref name="HasIdentity"/>.</param>
/// <param name="Inode">The file's inode number, when <paramref name="HasIdentity"/>.</param>
/// <param name="HasIdentity">Whether <paramref name="Device"/> and <paramref name="Inode"/> are known (Linux).</param>
internal readonly record struct FileIdentity(FileKind Kind, ulong Device, ulong Inode, bool HasIdentity)
{
    /// <summary>Words for the kind, for error messages: "a named pipe (FIFO)", "a character device", ...</summary>
    public string Description => Kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    /// <summary>Whether both name the same file: same device and inode where known, else the same final path.</summary>
    public bool IsSameFileAs(FileIdentity other) =>
        HasIdentity && other.HasIdentity && Kind != FileKind.Missing && Device == other.Device && Inode == other.Inode;
}

/// <summary>
/// Tells regular files from FIFOs, devices and sockets <em>before</em> anything opens them (opening a FIFO blocks until a
/// writer comes; reading <c>/dev/zero</c> never ends). On Linux it asks <c>statx(2)</c>, whose layout is the same on
/// every architecture, and also gets the file's identity (to recognise one file under two names, hard links included);
/// elsewhere it falls back to what <see cref="File"/> and <see cref="Directory"/> can tell (regular vs directory).
/// </summary>
internal static partial class FileProbe
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxIno = 0x100;
    private const int ENOENT = 2, ENOTDIR = 20, ELOOP = 40, ENAMETOOLONG = 36;

    /// <summary>Describes <paramref name="path"/>, following symbolic links unless <paramref name="followLinks"/> is false.</summary>
    public static FileIdentity Probe(string path, bool followLinks = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                return Statx(path, followLinks);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // a libc without statx (glibc < 2.28, some musl builds): fall through
            }
        }

        if (Directory.Exists(path))
            return new FileIdentity(FileKind.Directory, 0, 0, false);
        if (File.Exists(path))
            return new FileIdentity(FileKind.Regular, 0, 0, false);
        return new FileIdentity(FileKind.Missing, 0, 0, false);
    }

    private static FileIdentity Statx(string path, bool followLinks)
    {
        if (NativeStatx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxIno, out var buf) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return new FileIdentity(errno is ENOENT or ENOTDIR or ELOOP or ENAMETOOLONG ? FileKind.Missing : FileKind.Unknown, 0, 0, false);
        }

        var kind = (buf.Mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return new FileIdentity(kind, ((ulong)buf.DevMajor << 32) | buf.DevMinor, buf.Ino, (buf.Mask & StatxIno) != 0);
    }

    /// <summary>The parts of <c>struct statx</c> read here (linux/stat.h; 256 bytes on every architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(0)]
        public uint Mask;

        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Ino;

        [FieldOffset(136)]
        public uint DevMajor;

        [FieldOffset(140)]
        public uint DevMinor;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeStatx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);
}
