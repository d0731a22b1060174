namespace ConnText.Server.Files;

/// <summary>Settings under <c>ConnText:Files</c> (docs/configuration.md).</summary>
internal sealed class FilesOptions
{
    public const string Section = "ConnText:Files";

    /// <summary>The largest file, in bytes (tus <c>Tus-Max-Size</c>).</summary>
    public long MaxFileBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The largest body of the single-request upload (<c>POST /api/v1/files</c>); bigger files go through tus.</summary>
    public long MaxSimpleUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>What one user may store: finished files plus the declared length of unfinished uploads.</summary>
    public long QuotaBytesPerUser { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Uploads are refused when they would leave less free space than this on the files' disk.</summary>
    public long MinFreeDiskBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>How long an unfinished upload lives after it was created; then its bytes are deleted.</summary>
    public TimeSpan UploadExpiration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a file no message references is kept (time to attach it after uploading, or after its message was deleted).</summary>
    public TimeSpan UnreferencedFileGracePeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often expired uploads and unreferenced files are cleaned up.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Images with more pixels (width × height) are not decoded for thumbnails (decompression bombs).</summary>
    public long MaxThumbnailSourcePixels { get; set; } = 50_000_000;

    /// <summary>The longest side of a thumbnail, in pixels.</summary>
    public int ThumbnailSize { get; set; } = 320;
}
