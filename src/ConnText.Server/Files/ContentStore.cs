using ConnText.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Files;

/// <summary>
/// The bytes on disk, all under <c>{DataDirectory}/files</c> so that moving a finished upload into the store is
/// one rename on one file system (atomic: a reader sees no file or the whole file, never a partial one):
/// <c>uploads/</c> partial tus uploads and single-request bodies being received,
/// <c>sha256/ab/cd/abcd…</c> the content-addressed blobs, <c>thumbnails/</c> generated thumbnails, keyed by content too.
/// </summary>
internal sealed class ContentStore
{
    // Committing a blob and deleting one must not interleave for the same hash (a commit that found the blob present
    // and a cleanup that found no row referencing it). Striped locks bound the memory whatever the number of hashes.
    private readonly SemaphoreSlim[] stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public ContentStore(IOptions<ConnTextOptions> host)
    {
        Root = Path.Combine(host.Value.ResolvedDataDirectory, "files");
        UploadsDirectory = Path.Combine(Root, "uploads");
        BlobsDirectory = Path.Combine(Root, "sha256");
        ThumbnailsDirectory = Path.Combine(Root, "thumbnails");
        Directory.CreateDirectory(UploadsDirectory);
        Directory.CreateDirectory(BlobsDirectory);
        Directory.CreateDirectory(ThumbnailsDirectory);
    }

    public string Root { get; }

    public string UploadsDirectory { get; }

    public string BlobsDirectory { get; }

    public string ThumbnailsDirectory { get; }

    public string PartialPath(Guid uploadId) => Path.Combine(UploadsDirectory, uploadId.ToString("N") + ".part");

    public string NewTemporaryPath() => Path.Combine(UploadsDirectory, Guid.NewGuid().ToString("N") + ".tmp");

    public string BlobPath(string sha256) => Path.Combine(BlobsDirectory, sha256[..2], sha256[2..4], sha256);

    public string ThumbnailPath(string sha256, int size) =>
        Path.Combine(ThumbnailsDirectory, sha256[..2], $"{sha256}-{size.ToString(System.Globalization.CultureInfo.InvariantCulture)}.png");

    /// <summary>Free bytes on the disk holding the files; uploads keep at least <see cref="FilesOptions.MinFreeDiskBytes"/> of it.</summary>
    public long AvailableFreeBytes() => new DriveInfo(Root).AvailableFreeSpace;

    public async Task<IDisposable> LockAsync(string sha256, CancellationToken cancellationToken)
    {
        var stripe = stripes[Convert.ToInt32(sha256[..2], 16) % stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        return new Release(stripe);
    }

    /// <summary>
    /// Moves a finished temporary file into the store under its hash, or deletes it when that content is already
    /// stored: two identical uploads, concurrent or not, leave one blob. The caller holds <see cref="LockAsync"/>.
    /// </summary>
    public void CommitLocked(string temporaryPath, string sha256)
    {
        var blob = BlobPath(sha256);
        if (File.Exists(blob))
        {
            File.Delete(temporaryPath);
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        // Blobs are never written in place after this, so readers need no lock.
        File.Move(temporaryPath, blob, overwrite: true);
    }

    /// <summary>Deletes a blob and its thumbnails; the caller holds <see cref="LockAsync"/> and checked no file row references it.</summary>
    public void DeleteLocked(string sha256)
    {
        File.Delete(BlobPath(sha256));
        var thumbnails = Path.Combine(ThumbnailsDirectory, sha256[..2]);
        if (Directory.Exists(thumbnails))
        {
            foreach (var thumbnail in Directory.EnumerateFiles(thumbnails, sha256 + "-*"))
            {
                File.Delete(thumbnail);
            }
        }
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
