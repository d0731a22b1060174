namespace ConnText.Contracts.Files;

/// <summary>A stored file as its readers see it.</summary>
/// <param name="Id">The file's unguessable id.</param>
/// <param name="Name">The sanitized display name (no path, no control or bidi characters, not a reserved device name).</param>
/// <param name="Size">The size in bytes.</param>
/// <param name="ContentType">The media type detected from the content's magic bytes (the uploader's claim is ignored); <c>application/octet-stream</c> when unknown.</param>
/// <param name="Sha256">The SHA-256 of the content, lowercase hex.</param>
/// <param name="UploaderId">Who uploaded it.</param>
/// <param name="CreatedAt">When the upload finished.</param>
/// <param name="Width">For images: the width in pixels.</param>
/// <param name="Height">For images: the height in pixels.</param>
public sealed record FileResponse(
    Guid Id,
    string Name,
    long Size,
    string ContentType,
    string Sha256,
    Guid UploaderId,
    DateTimeOffset CreatedAt,
    int? Width,
    int? Height);

/// <summary>My storage use against my quota.</summary>
/// <param name="UsedBytes">The bytes of my finished files plus the declared length of my unfinished uploads.</param>
/// <param name="QuotaBytes">My quota in bytes.</param>
/// <param name="MaxFileBytes">The largest single file the server accepts.</param>
public sealed record FileUsageResponse(long UsedBytes, long QuotaBytes, long MaxFileBytes);

/// <summary>The headers of the tus 1.0 resumable-upload protocol, and this server's additions.</summary>
public static class TusHeaders
{
    /// <summary>The protocol version the client speaks; required on every request but OPTIONS.</summary>
    public const string Resumable = "Tus-Resumable";

    /// <summary>The protocol versions the server speaks.</summary>
    public const string Version = "Tus-Version";

    /// <summary>The extensions the server supports.</summary>
    public const string Extension = "Tus-Extension";

    /// <summary>The largest upload the server accepts, in bytes.</summary>
    public const string MaxSize = "Tus-Max-Size";

    /// <summary>The checksum algorithms the server supports.</summary>
    public const string ChecksumAlgorithm = "Tus-Checksum-Algorithm";

    /// <summary>The bytes received so far.</summary>
    public const string UploadOffset = "Upload-Offset";

    /// <summary>The upload's total size in bytes.</summary>
    public const string UploadLength = "Upload-Length";

    /// <summary>Comma-separated <c>key base64(value)</c> pairs; <c>filename</c> (or <c>name</c>) names the file.</summary>
    public const string UploadMetadata = "Upload-Metadata";

    /// <summary>When an unfinished upload expires (RFC 9110 date).</summary>
    public const string UploadExpires = "Upload-Expires";

    /// <summary><c>sha256 base64(digest)</c> of the request body.</summary>
    public const string UploadChecksum = "Upload-Checksum";

    /// <summary>ConnText: the id of the stored file, once the upload is complete.</summary>
    public const string FileId = "ConnText-File-Id";

    /// <summary>The media type of PATCH bodies.</summary>
    public const string OffsetOctetStream = "application/offset+octet-stream";
}
