using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Files;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Files;

/// <summary>
/// The tus 1.0 resumable-upload protocol (https://tus.io/protocols/resumable-upload) with the creation,
/// creation-with-upload, termination, checksum (sha256) and expiration extensions, so existing tus clients work.
/// Each PATCH streams to the end of the partial file; the bytes received before a dropped connection are kept
/// and acknowledged (HEAD tells the client where to resume), unless the PATCH carried a checksum, which a
/// partial body cannot satisfy.
/// </summary>
internal static class TusEndpoints
{
    public const string Version = "1.0.0";
    public const string Extensions = "creation,creation-with-upload,termination,checksum,expiration";

    /// <summary>How long a PATCH waits for a previous request on the same upload (a client resuming before the server noticed the drop).</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    public static void MapTusEndpoints(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/uploads").WithTags("Uploads");

        group.MapMethods("/", [HttpMethods.Options], Options).AllowAnonymous()
            .WithName("TusOptions")
            .WithSummary("tus: the server's protocol versions, extensions and limits");
        group.MapMethods("/{uploadId:guid}", [HttpMethods.Options], Options).AllowAnonymous()
            .WithName("TusUploadOptions")
            .WithSummary("tus: the server's protocol versions, extensions and limits");

        group.MapPost("/", CreateAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("CreateUpload")
            .WithSummary("tus: create an upload (optionally with its first bytes)")
            .WithDescription("Headers: Tus-Resumable: 1.0.0, Upload-Length, Upload-Metadata (filename base64). With Content-Type: application/offset+octet-stream the body is the first chunk. 201 with Location; ConnText-File-Id once complete.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);

        group.MapMethods("/{uploadId:guid}", [HttpMethods.Head], HeadAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("GetUploadOffset")
            .WithSummary("tus: the upload's offset")
            .WithDescription("Upload-Offset is where to resume; Upload-Length, Upload-Expires, and ConnText-File-Id once complete.");

        group.MapPatch("/{uploadId:guid}", PatchAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("AppendToUpload")
            .WithSummary("tus: append bytes at the server's offset")
            .WithDescription("Content-Type: application/offset+octet-stream; Upload-Offset must equal the server's (409 otherwise); optional Upload-Checksum: sha256 <base64> of this body (460 and the chunk is discarded on mismatch).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(460);

        group.MapDelete("/{uploadId:guid}", TerminateAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("TerminateUpload")
            .WithSummary("tus: abandon an upload and delete its bytes")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static NoContent Options(HttpContext context, FileIngest ingest)
    {
        var headers = context.Response.Headers;
        headers[TusHeaders.Resumable] = Version;
        headers[TusHeaders.Version] = Version;
        headers[TusHeaders.Extension] = Extensions;
        headers[TusHeaders.MaxSize] = ingest.Options.MaxFileBytes.ToString(CultureInfo.InvariantCulture);
        headers[TusHeaders.ChecksumAlgorithm] = "sha256";
        return TypedResults.NoContent();
    }

    private static async Task<IResult> CreateAsync(
        HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, FileIngest ingest, TimeProvider time, CancellationToken cancellationToken)
    {
        if (CheckVersion(context) is { } refused)
        {
            return refused;
        }

        var request = context.Request;
        if (request.Headers.ContainsKey("Upload-Defer-Length"))
        {
            return Malformed("Upload-Defer-Length is not supported: give Upload-Length.");
        }

        if (!long.TryParse(request.Headers[TusHeaders.UploadLength], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return Malformed("Upload-Length must be the upload's size in bytes.");
        }

        if (!TryParseMetadata(request.Headers[TusHeaders.UploadMetadata].ToString(), out var metadata))
        {
            return Malformed("Upload-Metadata must be comma-separated 'key base64value' pairs with unique keys.");
        }

        var options = ingest.Options;
        if (length > options.MaxFileBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "Payload Too Large",
                $"A file is at most {options.MaxFileBytes} bytes (Tus-Max-Size).");
        }

        var me = caller.UserId();
        if (await FilesEndpoints.RefuseStorageAsync(db, ingest, me, length, cancellationToken) is { } storageRefusal)
        {
            return storageRefusal;
        }

        var name = metadata.GetValueOrDefault("filename") ?? metadata.GetValueOrDefault("name");
        var now = time.GetUtcNow();
        var upload = new FileUpload
        {
            Id = Guid.NewGuid(),
            UploaderId = me,
            Length = length,
            Name = FileNames.Sanitize(name),
            CreatedAt = now,
            ExpiresAt = now + options.UploadExpiration,
        };
        var partial = ingest.Store.PartialPath(upload.Id);
        await File.WriteAllBytesAsync(partial, [], cancellationToken);
        db.FileUploads.Add(upload);
        await db.SaveChangesAsync(cancellationToken);

        var location = $"/api/v1/uploads/{upload.Id}";
        context.Response.Headers.Location = location;
        context.Response.Headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        var hasBody = request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (length == 0 || (hasBody && IsOffsetOctetStream(request)))
        {
            // creation-with-upload: the body is the first chunk, handled exactly like a PATCH at offset 0.
            var result = await AppendAsync(context, db, ingest, upload.Id, me, 0, cancellationToken);
            if (result.Refusal is not null)
            {
                return result.Refusal;
            }
        }
        else
        {
            SetTusHeaders(context, upload.Offset, null);
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
        return TypedResults.Empty;
    }

    private static async Task<IResult> HeadAsync(
        Guid uploadId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (CheckVersion(context) is { } refused)
        {
            return refused;
        }

        var upload = await db.FileUploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uploadId && u.UploaderId == caller.UserId(), cancellationToken);
        if (upload is null)
        {
            return UploadNotFound();
        }

        if (upload.FileId is null && upload.ExpiresAt <= time.GetUtcNow())
        {
            return Expired();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers[TusHeaders.UploadLength] = upload.Length.ToString(CultureInfo.InvariantCulture);
        if (upload.FileId is null)
        {
            headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        }

        SetTusHeaders(context, upload.Offset, upload.FileId);
        return TypedResults.Ok();
    }

    private static async Task<IResult> PatchAsync(
        Guid uploadId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, FileIngest ingest, CancellationToken cancellationToken)
    {
        if (CheckVersion(context) is { } refused)
        {
            return refused;
        }

        if (!IsOffsetOctetStream(context.Request))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, "Unsupported Media Type",
                $"A PATCH body has Content-Type: {TusHeaders.OffsetOctetStream}.");
        }

        if (!long.TryParse(context.Request.Headers[TusHeaders.UploadOffset], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return Malformed("Upload-Offset must be the byte offset this chunk starts at.");
        }

        var result = await AppendAsync(context, db, ingest, uploadId, caller.UserId(), offset, cancellationToken);
        return result.Refusal ?? TypedResults.NoContent();
    }

    private static async Task<IResult> TerminateAsync(
        Guid uploadId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, FileIngest ingest, CancellationToken cancellationToken)
    {
        if (CheckVersion(context) is { } refused)
        {
            return refused;
        }

        var me = caller.UserId();
        if (!await db.FileUploads.AnyAsync(u => u.Id == uploadId && u.UploaderId == me, cancellationToken))
        {
            return UploadNotFound();
        }

        var state = ingest.StateFor(uploadId);
        if (!await state.Lock.WaitAsync(LockWait, cancellationToken))
        {
            return Busy();
        }

        try
        {
            await db.FileUploads.Where(u => u.Id == uploadId).ExecuteDeleteAsync(cancellationToken);
            File.Delete(ingest.Store.PartialPath(uploadId));
        }
        finally
        {
            state.Lock.Release();
            ingest.Forget(uploadId);
        }

        context.Response.Headers[TusHeaders.Resumable] = Version;
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Appends the request body at <paramref name="offset"/>, which must be the stored offset. Sets the tus response
    /// headers; returns a refusal, or null with the upload's new state (and its file once complete).
    /// </summary>
    private static async Task<(IResult? Refusal, long Offset)> AppendAsync(
        HttpContext context, ConnTextDbContext db, FileIngest ingest, Guid uploadId, Guid me, long offset, CancellationToken cancellationToken)
    {
        var request = context.Request;
        byte[]? expectedChecksum = null;
        if (request.Headers.TryGetValue(TusHeaders.UploadChecksum, out var checksumHeader))
        {
            var parts = checksumHeader.ToString().Split(' ', 2);
            if (parts.Length != 2 || !string.Equals(parts[0], "sha256", StringComparison.Ordinal))
            {
                return (Malformed("Upload-Checksum must be 'sha256 <base64 digest>'; sha256 is the supported algorithm."), 0);
            }

            try
            {
                expectedChecksum = Convert.FromBase64String(parts[1]);
            }
            catch (FormatException)
            {
                return (Malformed("The Upload-Checksum digest is not valid base64."), 0);
            }
        }

        var state = ingest.StateFor(uploadId);
        if (!await state.Lock.WaitAsync(LockWait, cancellationToken))
        {
            return (Busy(), 0);
        }

        var complete = false;
        try
        {
            // Read under the lock: the previous PATCH on this upload has stored its offset by now.
            var upload = await db.FileUploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uploadId && u.UploaderId == me, cancellationToken);
            if (upload is null)
            {
                return (UploadNotFound(), 0);
            }

            if (upload.FileId is null && upload.ExpiresAt <= ingest.Now)
            {
                return (Expired(), 0);
            }

            if (offset != upload.Offset)
            {
                context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
                return (Problem(StatusCodes.Status409Conflict, ProblemTypes.UploadOffsetMismatch, "Conflict",
                    $"The upload is at offset {upload.Offset}, not {offset}. Resume from Upload-Offset."), 0);
            }

            if (upload.FileId is not null)
            {
                // Complete already (a retried last PATCH): nothing to write, same answer as the first time.
                SetTusHeaders(context, upload.Offset, upload.FileId);
                return (null, upload.Offset);
            }

            var remaining = upload.Length - upload.Offset;
            if (request.ContentLength > remaining)
            {
                return (Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "Payload Too Large",
                    $"The upload needs {remaining} more bytes; this body has {request.ContentLength}."), 0);
            }

            if (remaining > 0 && ingest.DiskWouldFallBelowFloor(Math.Min(remaining, request.ContentLength ?? remaining)))
            {
                return (InsufficientStorage(), 0);
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null; // bounded below by the bytes the upload still needs
            }

            var partial = ingest.Store.PartialPath(uploadId);
            var written = await WriteChunkAsync(context, db, ingest, state, upload, partial, expectedChecksum, cancellationToken);
            if (written.Refusal is not null)
            {
                return (written.Refusal, 0);
            }

            var newOffset = upload.Offset + written.Bytes;
            Guid? fileId = null;
            if (newOffset == upload.Length)
            {
                var hash = Convert.ToHexStringLower(state.Hash!.GetHashAndReset());
                state.ResetHash();
                var file = await ingest.StoreAsync(db, partial, hash, upload.Length, upload.Name, me, upload.Id, cancellationToken);
                fileId = file.Id;
                complete = true;
            }

            SetTusHeaders(context, newOffset, fileId);
            if (fileId is null)
            {
                context.Response.Headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
            }

            return (null, newOffset);
        }
        finally
        {
            state.Lock.Release();
            if (complete)
            {
                ingest.Forget(uploadId);
            }
        }
    }

    private static async Task<(IResult? Refusal, long Bytes)> WriteChunkAsync(
        HttpContext context, ConnTextDbContext db, FileIngest ingest, UploadState state, FileUpload upload, string partial,
        byte[]? expectedChecksum, CancellationToken cancellationToken)
    {
        if (!File.Exists(partial))
        {
            return (Expired(), 0);
        }

        await ingest.EnsureHashAsync(state, partial, upload.Offset, cancellationToken);
        using var chunkHash = expectedChecksum is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var progress = new CopyProgress();
        var keep = true;
        await using (var target = new FileStream(partial, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None))
        {
            // Bytes past the stored offset were never acknowledged (a crash between writing and storing the offset).
            target.SetLength(upload.Offset);
            target.Position = upload.Offset;
            try
            {
                await FileIngest.CopyAsync(context.Request.Body, target, state.Hash!, chunkHash, upload.Length - upload.Offset, progress, cancellationToken);
            }
            catch (BodyTooLargeException)
            {
                target.SetLength(upload.Offset);
                state.ResetHash();
                return (Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "Payload Too Large",
                    $"The body is longer than the {upload.Length - upload.Offset} bytes the upload still needs."), 0);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client went away mid-body. Without a checksum the received prefix is kept and acknowledged;
                // with one, the chunk cannot be verified and is dropped whole.
                keep = expectedChecksum is null;
            }

            if (keep && expectedChecksum is not null && !CryptographicOperations.FixedTimeEquals(chunkHash!.GetHashAndReset(), expectedChecksum))
            {
                keep = false;
                target.SetLength(upload.Offset);
                state.ResetHash();
                return (Problem(460, ProblemTypes.ChecksumMismatch, "Checksum Mismatch",
                    "The body's SHA-256 does not match Upload-Checksum; the chunk was discarded. Resend it."), 0);
            }

            if (!keep)
            {
                target.SetLength(upload.Offset);
                state.ResetHash();
                progress.Bytes = 0;
            }

            // Durable before acknowledged: the stored offset never runs ahead of the bytes on disk.
            FileIngest.FlushToDisk(target);
        }

        state.HashedOffset = upload.Offset + progress.Bytes;
        if (progress.Bytes > 0)
        {
            // Not the request's token: bytes received before a disconnect are still acknowledged.
            await db.FileUploads.Where(u => u.Id == upload.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.Offset, upload.Offset + progress.Bytes), CancellationToken.None);
        }

        return (null, progress.Bytes);
    }

    private static void SetTusHeaders(HttpContext context, long offset, Guid? fileId)
    {
        var headers = context.Response.Headers;
        headers[TusHeaders.Resumable] = Version;
        headers[TusHeaders.UploadOffset] = offset.ToString(CultureInfo.InvariantCulture);
        if (fileId is { } id)
        {
            headers[TusHeaders.FileId] = id.ToString();
        }
    }

    private static ProblemHttpResult? CheckVersion(HttpContext context)
    {
        context.Response.Headers[TusHeaders.Resumable] = Version;
        if (string.Equals(context.Request.Headers[TusHeaders.Resumable], Version, StringComparison.Ordinal))
        {
            return null;
        }

        context.Response.Headers[TusHeaders.Version] = Version;
        return Problem(StatusCodes.Status412PreconditionFailed, ProblemTypes.TusVersionUnsupported, "Precondition Failed",
            $"Send Tus-Resumable: {Version}.");
    }

    private static bool IsOffsetOctetStream(HttpRequest request) =>
        string.Equals(request.ContentType?.Split(';')[0].Trim(), TusHeaders.OffsetOctetStream, StringComparison.OrdinalIgnoreCase);

    /// <summary>tus metadata: <c>key base64value</c> pairs separated by commas; a key alone means an empty value.</summary>
    internal static bool TryParseMetadata(string header, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(header))
        {
            return true;
        }

        foreach (var pair in header.Split(','))
        {
            var parts = pair.Trim().Split(' ');
            if (parts.Length is < 1 or > 2 || parts[0].Length == 0 || metadata.ContainsKey(parts[0]))
            {
                return false;
            }

            try
            {
                metadata[parts[0]] = parts.Length == 2 ? Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])) : "";
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return true;
    }

    private static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        TypedResults.Problem(statusCode: status, type: type, title: title, detail: detail);

    private static ProblemHttpResult Malformed(string detail) =>
        Problem(StatusCodes.Status400BadRequest, ProblemTypes.MalformedRequest, "Bad Request", detail);

    private static ProblemHttpResult UploadNotFound() =>
        Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not Found", "You have no upload with this id.");

    private static ProblemHttpResult Expired() =>
        Problem(StatusCodes.Status410Gone, ProblemTypes.UploadExpired, "Gone", "The upload expired and its bytes were deleted. Start a new upload.");

    private static ProblemHttpResult Busy() =>
        Problem(StatusCodes.Status409Conflict, ProblemTypes.Conflict, "Conflict", "Another request is still writing to this upload. Retry shortly.");

    internal static ProblemHttpResult InsufficientStorage() =>
        Problem(StatusCodes.Status507InsufficientStorage, ProblemTypes.InsufficientStorage, "Insufficient Storage",
            "The server is low on disk space and accepts no uploads now. Retry later.");
}
