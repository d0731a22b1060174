using System.Security.Cryptography;
using ConnText.Server.Files;
using Microsoft.Win32.SafeHandles;

namespace ConnText.Server.Tests.Files;

/// <summary>
/// The body-to-disk copy under uploads: through the page cache at the start of a file, direct writes past
/// <see cref="DirectWrites.FromOffset"/>, plain writes where there is no direct I/O, and the fall-back when a direct
/// write is refused.
/// </summary>
public sealed class FileIngestCopyTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly string disk = Directory.CreateTempSubdirectory("conntext-copy-").FullName;

    /// <summary>How the bulk past FromOffset is written.</summary>
    public enum Bulk
    {
        /// <summary>O_DIRECT, as on ext4, XFS, btrfs.</summary>
        Direct,

        /// <summary>No direct handle: through the page cache (platforms without O_DIRECT).</summary>
        Buffered,

        /// <summary>A direct handle whose writes fail (here: opened read-only), so each falls back to the page cache.</summary>
        Refused,
    }

    public static TheoryData<Bulk, long, int> Cases()
    {
        var data = new TheoryData<Bulk, long, int>();
        foreach (var bulk in Enum.GetValues<Bulk>())
        {
            data.Add(bulk, 0, 0);
            data.Add(bulk, 0, 5000);
            data.Add(bulk, 0, (9 * MiB) + 4097); // crosses FromOffset, ends unaligned
            data.Add(bulk, 12_345, 9 * MiB); // unaligned start, crosses FromOffset
            data.Add(bulk, (8 * MiB) - 10, (2 * MiB) + 1); // starts just before it
            data.Add(bulk, (8 * MiB) + 1000, (3 * MiB) + 5); // a resumed upload past it, unaligned
            data.Add(bulk, 16 * MiB, 4096); // aligned start, one block
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Copy_WritesEveryByteAfterTheExistingOnes_HashesAndCountsThem(Bulk bulk, long start, int length)
    {
        var path = Path.Combine(disk, "partial");
        var existing = Bytes(start);
        await File.WriteAllBytesAsync(path, existing);
        var body = Bytes(length);

        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var chunk = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var progress = new CopyProgress();
        await using (var target = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None))
        {
            target.Position = start;
            using var direct = Open(bulk, path);
            await FileIngest.CopyAsync(new RaggedStream(body, failAfter: null), target, direct, whole, chunk, length, progress, CancellationToken.None);
            Assert.Equal(start + length, target.Position);
            FileIngest.FlushToDisk(target);
        }

        Assert.Equal(length, progress.Bytes);
        AssertBulk(bulk, start, length, progress);
        Assert.Equal(SHA256.HashData(body), whole.GetHashAndReset());
        Assert.Equal(SHA256.HashData(body), chunk.GetHashAndReset());
        var written = await File.ReadAllBytesAsync(path);
        Assert.Equal(start + length, written.Length);
        Assert.True(written.AsSpan(0, (int)start).SequenceEqual(existing), "the bytes before the start changed");
        Assert.True(written.AsSpan((int)start).SequenceEqual(body), "the body's bytes differ on disk");
    }

    [Theory]
    [InlineData(Bulk.Direct)]
    [InlineData(Bulk.Buffered)]
    [InlineData(Bulk.Refused)]
    public async Task Copy_BodyFailingPartWay_LeavesExactlyTheReceivedPrefix_WrittenHashedAndCounted(Bulk bulk)
    {
        var path = Path.Combine(disk, "partial");
        await File.WriteAllBytesAsync(path, []);
        var body = Bytes(12 * MiB);
        const int received = (9 * MiB) + 777; // past FromOffset, unaligned, part of a staged buffer

        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var progress = new CopyProgress();
        await using (var target = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None))
        {
            using var direct = Open(bulk, path);
            await Assert.ThrowsAsync<IOException>(() =>
                FileIngest.CopyAsync(new RaggedStream(body, failAfter: received), target, direct, whole, null, body.Length, progress, CancellationToken.None));
            Assert.Equal(received, target.Position);
        }

        Assert.Equal(received, progress.Bytes);
        AssertBulk(bulk, 0, received, progress);
        Assert.Equal(SHA256.HashData(body.AsSpan(0, received)), whole.GetHashAndReset());
        var written = await File.ReadAllBytesAsync(path);
        Assert.True(written.AsSpan().SequenceEqual(body.AsSpan(0, received)), "the file is not exactly the received prefix");
    }

    [Fact]
    public async Task Copy_PastTheLimit_RefusesWithoutCountingTheExcess()
    {
        var path = Path.Combine(disk, "partial");
        await File.WriteAllBytesAsync(path, []);
        var body = Bytes((9 * MiB) + 1);

        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var progress = new CopyProgress();
        await using var target = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        await Assert.ThrowsAsync<BodyTooLargeException>(() =>
            FileIngest.CopyAsync(new RaggedStream(body, failAfter: null), target, whole, null, 9 * MiB, progress, CancellationToken.None));
        Assert.True(progress.Bytes <= 9 * MiB);
        Assert.Equal(progress.Bytes, target.Position);
    }

    [Fact]
    public void DirectWrites_OpenOnTheDisk_AndBuffersAreAligned()
    {
        var onDisk = Path.Combine(disk, "direct");
        File.WriteAllBytes(onDisk, []);

        // The public CopyAsync opens its direct handle this way: on the test machine's disk (ext4) it must succeed,
        // or uploads would silently take the page-cache path everywhere.
        using (var handle = DirectWrites.TryOpen(onDisk))
        {
            Assert.NotNull(handle);
        }

        Assert.Null(DirectWrites.TryOpen(Path.Combine(disk, "missing")));

        var buffer = DirectWrites.AlignedBuffer(4 * DirectWrites.Alignment);
        Assert.Equal(4 * DirectWrites.Alignment, buffer.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => DirectWrites.AlignedBuffer(1000));
    }

    public void Dispose()
    {
        Directory.Delete(disk, recursive: true);
    }

    /// <summary>Direct writes happened exactly when they should (a silent fall-back would pass every byte check).</summary>
    private static void AssertBulk(Bulk bulk, long start, long length, CopyProgress progress)
    {
        Assert.Equal(0, progress.DirectBytes % DirectWrites.Alignment);
        if (bulk != Bulk.Direct || start + length <= DirectWrites.FromOffset + (1024 * 1024))
        {
            // Before FromOffset (plus the last page-cache buffer that crosses it) nothing goes around the cache.
            Assert.True(bulk != Bulk.Direct ? progress.DirectBytes == 0 : progress.DirectBytes <= length, $"{progress.DirectBytes} direct bytes");
            return;
        }

        // Past it, everything but an unaligned head and tail and the buffer that crossed FromOffset.
        var bulkBytes = start + length - Math.Max(start, DirectWrites.FromOffset);
        Assert.InRange(progress.DirectBytes, bulkBytes - (1024 * 1024) - (2 * DirectWrites.Alignment), bulkBytes);
    }

    private static SafeFileHandle? Open(Bulk bulk, string path) => bulk switch
    {
        Bulk.Direct => DirectWrites.TryOpen(path) ?? throw new InvalidOperationException("no direct I/O on the test disk"),
        Bulk.Refused => File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite),
        _ => null,
    };

    private static byte[] Bytes(long length) => RandomNumberGenerator.GetBytes(checked((int)length));

    /// <summary>A request body that arrives in uneven pieces (as from a socket) and can fail part way.</summary>
    private sealed class RaggedStream(byte[] data, int? failAfter) : Stream
    {
        private int position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var end = failAfter ?? data.Length;
            if (position >= end)
            {
                return failAfter is null ? ValueTask.FromResult(0) : ValueTask.FromException<int>(new IOException("The client went away."));
            }

            var count = Math.Min(Math.Min(buffer.Length, RandomNumberGenerator.GetInt32(1, 300_000)), end - position);
            data.AsMemory(position, count).CopyTo(buffer);
            position += count;
            return ValueTask.FromResult(count);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
