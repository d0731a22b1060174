using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using SixLabors.ImageSharp;

namespace ConnText.Server.Files;

/// <summary>
/// Receiving bytes: streams request bodies to disk in fixed-size buffers (never the whole body in memory),
/// hashing as they pass, and turns a finished upload into a stored file. Shared by tus and the single-request upload.
/// </summary>
internal sealed partial class FileIngest(ContentStore store, IOptions<FilesOptions> options, TimeProvider time, ILogger<FileIngest> logger)
{
    // One write per MiB of body; a multiple of DirectWrites.Alignment.
    private const int BufferBytes = 1024 * 1024;

    // One entry per upload a request is writing or has written in this process: the SHA-256 state over the
    // acknowledged bytes, so a resumed upload continues the hash instead of reading the partial file again.
    // IncrementalHash cannot be persisted; after a restart, or when another node took the previous PATCH, the
    // state is rebuilt from the partial file (HashedOffset no longer matches the stored offset).
    private readonly ConcurrentDictionary<Guid, UploadState> states = new();

    public FilesOptions Options => options.Value;

    public ContentStore Store => store;

    public DateTimeOffset Now => time.GetUtcNow();

    public UploadState StateFor(Guid uploadId) => states.GetOrAdd(uploadId, _ => new UploadState());

    public void Forget(Guid uploadId)
    {
        if (states.TryRemove(uploadId, out var state))
        {
            state.ResetHash();
        }
    }

    /// <summary>Bytes the user holds: finished files plus what unfinished uploads have reserved.</summary>
    public static async Task<long> UsedBytesAsync(ConnTextDbContext db, Guid userId, CancellationToken cancellationToken)
    {
        var files = await db.Files.Where(f => f.UploaderId == userId).SumAsync(f => (long?)f.Size, cancellationToken) ?? 0;
        var reserved = await db.FileUploads.Where(u => u.UploaderId == userId && u.FileId == null)
            .SumAsync(u => (long?)u.Length, cancellationToken) ?? 0;
        return files + reserved;
    }

    public bool DiskWouldFallBelowFloor(long incomingBytes) => store.AvailableFreeBytes() - incomingBytes < options.Value.MinFreeDiskBytes;

    /// <summary>
    /// Copies the body to <paramref name="target"/> at its position, feeding every written byte to the hashes.
    /// <paramref name="progress"/> counts bytes both written and hashed, so after any failure the caller knows exactly
    /// which prefix is consistent: bytes received before the body failed are written before the failure is thrown.
    /// Throws <see cref="BodyTooLargeException"/> past <paramref name="maxBytes"/> (nothing more is written then).
    /// The target's position is left after the last byte written.
    /// </summary>
    public static async Task CopyAsync(
        Stream body, FileStream target, IncrementalHash whole, IncrementalHash? chunk, long maxBytes, CopyProgress progress,
        CancellationToken cancellationToken)
    {
        using var directHandle = DirectWrites.TryOpen(target.Name);
        await CopyAsync(body, target, directHandle, whole, chunk, maxBytes, progress, cancellationToken);
    }

    /// <summary>
    /// <see cref="CopyAsync(Stream, FileStream, IncrementalHash, IncrementalHash?, long, CopyProgress, CancellationToken)"/>
    /// with the direct handle given: past <see cref="DirectWrites.FromOffset"/> the aligned bulk goes through
    /// <paramref name="directHandle"/> around the page cache; the start of the file, an unaligned head and tail, and
    /// everything when it is null (no direct I/O here) go through the target's own handle.
    /// </summary>
    internal static async Task CopyAsync(
        Stream body, FileStream target, SafeFileHandle? directHandle, IncrementalHash whole, IncrementalHash? chunk, long maxBytes,
        CopyProgress progress, CancellationToken cancellationToken)
    {
        var buffer = DirectWrites.AlignedBuffer(BufferBytes);
        var offset = target.Position;
        var staged = 0; // received, not yet written: buffer[..staged] belongs at offset
        try
        {
            while (true)
            {
                var direct = offset >= DirectWrites.FromOffset ? directHandle : null;

                // Until the offset is aligned, fill only up to the next boundary; from there on whole buffers.
                var fill = direct is not null && offset % DirectWrites.Alignment != 0
                    ? (int)(DirectWrites.Alignment - (offset % DirectWrites.Alignment))
                    : BufferBytes;
                var read = await body.ReadAsync(buffer[staged..fill], cancellationToken);
                if (read == 0)
                {
                    break;
                }

                if (progress.Bytes + staged + read > maxBytes)
                {
                    throw new BodyTooLargeException();
                }

                staged += read;
                if (staged == fill || (direct is null && offset + staged >= DirectWrites.FromOffset))
                {
                    offset = await WriteAsync(direct, target, buffer[..staged], offset, whole, chunk, progress);
                    staged = 0;
                }
            }

            offset = await WriteAsync(offset >= DirectWrites.FromOffset ? directHandle : null, target, buffer[..staged], offset, whole, chunk, progress);
        }
        catch (Exception ex) when ((ex is IOException or OperationCanceledException) && staged > 0)
        {
            // The body failed part way: what did arrive is written, so the caller may keep the whole received prefix.
            offset = await WriteAsync(offset >= DirectWrites.FromOffset ? directHandle : null, target, buffer[..staged], offset, whole, chunk, progress);
            throw;
        }
        finally
        {
            target.Position = offset;
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>, then hashes and counts it; returns the offset after
    /// it. Not cancellable: bytes that arrived are written even when the request was aborted.
    /// </summary>
    private static async Task<long> WriteAsync(
        SafeFileHandle? direct, FileStream target, ReadOnlyMemory<byte> data, long offset, IncrementalHash whole, IncrementalHash? chunk,
        CopyProgress progress)
    {
        var aligned = direct is null || offset % DirectWrites.Alignment != 0 ? 0 : data.Length / DirectWrites.Alignment * DirectWrites.Alignment;
        if (aligned > 0)
        {
            try
            {
                await RandomAccess.WriteAsync(direct!, data[..aligned], offset);
                progress.DirectBytes += aligned;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file system that opened the file for direct I/O but refuses this write (EINVAL for a larger block
                // size, say): the same bytes through the page cache. A real disk error fails there as well.
                aligned = 0;
            }
        }

        if (aligned < data.Length)
        {
            await RandomAccess.WriteAsync(target.SafeFileHandle, data[aligned..], offset + aligned);
        }

        whole.AppendData(data.Span);
        chunk?.AppendData(data.Span);
        progress.Bytes += data.Length;
        return offset + data.Length;
    }

    /// <summary>fsync: there is no asynchronous form, and the bytes must be on disk before the offset says so.</summary>
    public static void FlushToDisk(FileStream stream) => stream.Flush(flushToDisk: true);

    /// <summary>Brings the hash state to <paramref name="offset"/> bytes of the partial file, reading it again when needed.</summary>
    public async Task EnsureHashAsync(UploadState state, string partialPath, long offset, CancellationToken cancellationToken)
    {
        if (state.Hash is not null && state.HashedOffset == offset)
        {
            return;
        }

        state.ResetHash();
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (offset > 0)
        {
            LogRehashing(logger, offset);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
            try
            {
                await using var stream = new FileStream(partialPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                var remaining = offset;
                while (remaining > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferBytes, remaining)), cancellationToken);
                    if (read == 0)
                    {
                        throw new IOException($"The partial upload is shorter than its stored offset {offset}.");
                    }

                    hash.AppendData(buffer, 0, read);
                    remaining -= read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        state.Hash = hash;
        state.HashedOffset = offset;
    }

    /// <summary>
    /// Turns a complete temporary file into a stored file: detects the type from its bytes, moves it into the
    /// content store (or drops it when that content is stored already) and records the metadata, atomically with
    /// respect to cleanup of the same content.
    /// </summary>
    public async Task<StoredFile> StoreAsync(
        ConnTextDbContext db, string temporaryPath, string sha256, long size, string name, Guid uploaderId, Guid? uploadId,
        CancellationToken cancellationToken)
    {
        var contentType = await ContentSniffer.DetectAsync(temporaryPath, cancellationToken);
        int? width = null, height = null;
        if (ContentSniffer.ThumbnailSources.Contains(contentType))
        {
            try
            {
                // Only the header is read: dimensions for clients' layout, whatever the pixel count.
                var info = await Image.IdentifyAsync(temporaryPath, cancellationToken);
                width = info?.Width;
                height = info?.Height;
            }
            catch (Exception ex) when (ex is ImageFormatException or UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
            {
                // A damaged image is still a file; it just has no dimensions.
            }
        }

        var file = new StoredFile
        {
            Id = Guid.NewGuid(),
            UploaderId = uploaderId,
            Name = name,
            Size = size,
            ContentType = contentType,
            Sha256 = sha256,
            Width = width,
            Height = height,
            CreatedAt = time.GetUtcNow(),
        };

        using (await store.LockAsync(sha256, cancellationToken))
        {
            store.CommitLocked(temporaryPath, sha256);
            db.Files.Add(file);
            await db.SaveChangesAsync(CancellationToken.None);
            if (uploadId is { } id)
            {
                await db.FileUploads.Where(u => u.Id == id)
                    .ExecuteUpdateAsync(u => u.SetProperty(x => x.FileId, file.Id).SetProperty(x => x.Offset, size), CancellationToken.None);
            }
        }

        LogStored(logger, file.Id, size, contentType);
        return file;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Stored file {FileId}: {Size} bytes, {ContentType}")]
    private static partial void LogStored(ILogger logger, Guid fileId, long size, string contentType);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Rebuilding the SHA-256 state of a resumed upload over {Offset} bytes")]
    private static partial void LogRehashing(ILogger logger, long offset);
}

/// <summary>Per-upload state in this process: the write lock (one PATCH at a time) and the running hash.</summary>
internal sealed class UploadState
{
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public IncrementalHash? Hash { get; set; }

    public long HashedOffset { get; set; }

    public void ResetHash()
    {
        Hash?.Dispose();
        Hash = null;
        HashedOffset = -1;
    }
}

internal sealed class CopyProgress
{
    public long Bytes { get; set; }

    /// <summary>Of <see cref="Bytes"/>, those written around the page cache (<see cref="DirectWrites"/>).</summary>
    public long DirectBytes { get; set; }
}

internal sealed class BodyTooLargeException : Exception
{
    public BodyTooLargeException()
        : base("The request body is longer than allowed.")
    {
    }

    public BodyTooLargeException(string message)
        : base(message)
    {
    }

    public BodyTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
