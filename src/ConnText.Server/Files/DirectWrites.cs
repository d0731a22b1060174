using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ConnText.Server.Files;

/// <summary>
/// Writes that bypass the page cache (<c>O_DIRECT</c> on Linux) for the aligned bulk of a large upload.
/// </summary>
/// <remarks>
/// A buffered write copies every byte into the page cache first. On the benchmark machine that copy was the
/// upload's largest cost (45 % of the server's CPU samples during a 2 GiB upload) while the disk itself took
/// direct writes at ~2 GB/s (docs/performance.md, Files). Direct writes move the bytes from our buffer to the
/// device, and a multi-gigabyte upload no longer pushes the database's pages out of the cache. The file system
/// must accept <c>O_DIRECT</c> (ext4, XFS and btrfs do, tmpfs since Linux 6.6; some FUSE and network file systems
/// do not): where it does not, the caller writes through the page cache as before. Durability is unchanged: the
/// caller still fsyncs before acknowledging.
/// </remarks>
internal static partial class DirectWrites
{
    /// <summary>Offsets, lengths and buffer addresses of direct writes are multiples of this (every device's block size divides it).</summary>
    public const int Alignment = 4096;

    /// <summary>
    /// Bytes of a file before this offset go through the page cache: most files in a chat (images, documents) are
    /// smaller, and the room reads them right after they are sent. Only the bulk of large files bypasses the cache.
    /// </summary>
    public const long FromOffset = 8L * 1024 * 1024;

    private const int WriteOnly = 0x1;
    private const int CloseOnExec = 0x80000;

    /// <summary>
    /// A second, write-only handle on an existing file that bypasses the page cache, or null where the platform
    /// or the file system does not offer that.
    /// </summary>
    public static SafeFileHandle? TryOpen(string path)
    {
        if (!OperatingSystem.IsLinux() || DirectFlag() is not { } direct)
        {
            return null;
        }

        var fd = Open(path, WriteOnly | CloseOnExec | direct, 0);
        if (fd < 0)
        {
            return null; // EINVAL: the file system has no direct I/O; anything else surfaces on the buffered handle
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>A buffer of <paramref name="bytes"/> (a multiple of <see cref="Alignment"/>) whose address is aligned, for direct writes.</summary>
    public static Memory<byte> AlignedBuffer(int bytes)
    {
        if (bytes <= 0 || bytes % Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"must be a positive multiple of {Alignment}.");
        }

        // Pinned, so the address computed here stays the array's address.
        var array = GC.AllocateUninitializedArray<byte>(bytes + Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        var skip = (int)((Alignment - (address % Alignment)) % Alignment);
        return array.AsMemory(skip, bytes);
    }

    // O_DIRECT's value differs between architectures; elsewhere none is used.
    private static int? DirectFlag() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => null,
    };

    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
