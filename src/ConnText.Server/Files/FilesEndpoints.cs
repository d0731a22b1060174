using System.Security.Claims;
using System.Security.Cryptography;
using ConnText.Contracts.Files;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Net.Http.Headers;

namespace ConnText.Server.Files;

/// <summary>
/// Files: resumable uploads (tus, <see cref="TusEndpoints"/>), a single-request upload for small files, downloads
/// with ranges and conditional requests, thumbnails, and my storage use. Readers are the uploader and the members
/// of conversations where the file was shared (<see cref="FileAccessRules"/>).
/// </summary>
internal static class FilesEndpoints
{
    // Served files may be anything a user uploaded: no scripts, no plugins, no same-origin rights even if a
    // browser ends up rendering one (sandbox), on top of nosniff and attachment disposition.
    private const string DownloadPolicy = "default-src 'none'; sandbox";

    public static IServiceCollection AddFiles(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<FilesOptions>(FilesOptions.Section);
        Validate(options);
        services.Configure<FilesOptions>(configuration.GetSection(FilesOptions.Section));
        services.TryAddSingleton<ContentStore>();
        services.TryAddSingleton<FileIngest>();
        services.TryAddSingleton<Thumbnails>();
        services.TryAddSingleton<FileJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<FileJanitor>());
        return services;
    }

    public static RouteGroupBuilder MapFilesEndpoints(this IEndpointRouteBuilder api)
    {
        TusEndpoints.MapTusEndpoints(api);
        var group = api.MapGroup("/files").WithTags("Files");

        group.MapPost("/", UploadAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("UploadFile")
            .WithSummary("Upload a small file in one request")
            .WithDescription("The body is the file (any Content-Type; the type is detected from the content). ?name= gives its display name. Up to ConnText:Files:MaxSimpleUploadBytes (100 MiB); larger files go through tus at /api/v1/uploads.")
            .Accepts<Stream>("application/octet-stream")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);

        group.MapGet("/usage", UsageAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetMyFileUsage")
            .WithSummary("My storage use and quota");

        group.MapGet("/{fileId:guid}/metadata", MetadataAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetFileMetadata")
            .WithSummary("A file's metadata")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{fileId:guid}", DownloadAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("DownloadFile")
            .WithSummary("Download a file")
            .WithDescription("Range (one range; 206, or 416 when unsatisfiable), ETag / If-None-Match (304). PNG, JPEG, GIF and WebP are served inline with their type; everything else as an application/octet-stream attachment. Sandboxing CSP and nosniff always.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable);

        group.MapGet("/{fileId:guid}/thumbnail", ThumbnailAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetFileThumbnail")
            .WithSummary("A PNG thumbnail of an image file")
            .WithDescription("At most ConnText:Files:ThumbnailSize pixels on the longer side; 422 when the file is not an image or has too many pixels to decode.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        return group;
    }

    /// <summary>The checks every new upload passes before a byte is stored: quota, then the free-space floor.</summary>
    internal static async Task<IResult?> RefuseStorageAsync(
        ConnTextDbContext db, FileIngest ingest, Guid userId, long length, CancellationToken cancellationToken)
    {
        var options = ingest.Options;
        var used = await FileIngest.UsedBytesAsync(db, userId, cancellationToken);
        if (used + length > options.QuotaBytesPerUser)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, type: ProblemTypes.QuotaExceeded,
                title: "Quota Exceeded",
                detail: $"Storing {length} bytes would exceed your quota: {used} of {options.QuotaBytesPerUser} bytes are used. Delete messages with files you no longer need.");
        }

        return ingest.DiskWouldFallBelowFloor(length) ? TusEndpoints.InsufficientStorage() : null;
    }

    private static async Task<IResult> UploadAsync(
        HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, FileIngest ingest, CancellationToken cancellationToken,
        string? name = null)
    {
        var options = ingest.Options;
        var max = Math.Min(options.MaxSimpleUploadBytes, options.MaxFileBytes);
        var declared = context.Request.ContentLength;
        if (declared > max)
        {
            return TooLarge(max);
        }

        var me = caller.UserId();
        if (await RefuseStorageAsync(db, ingest, me, declared ?? 0, cancellationToken) is { } refusal)
        {
            return refusal;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Counted by CopyAsync instead, so an oversized body gets this endpoint's answer, not a broken read.
            limit.MaxRequestBodySize = null;
        }

        var temporary = ingest.Store.NewTemporaryPath();
        var progress = new CopyProgress();
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                await FileIngest.CopyAsync(context.Request.Body, target, hash, null, max, progress, cancellationToken);
                FileIngest.FlushToDisk(target);
            }

            // A body without Content-Length is checked against the quota once its size is known.
            if (declared is null && await RefuseStorageAsync(db, ingest, me, progress.Bytes, cancellationToken) is { } late)
            {
                return late;
            }

            var file = await ingest.StoreAsync(db, temporary, Convert.ToHexStringLower(hash.GetHashAndReset()), progress.Bytes,
                FileNames.Sanitize(name), me, null, cancellationToken);
            return TypedResults.Created($"/api/v1/files/{file.Id}", FileAccessRules.ToResponse(file));
        }
        catch (BodyTooLargeException)
        {
            return TooLarge(max);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client went away (or the body ended early): nothing to store, nobody to answer.
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.MalformedRequest,
                title: "Bad Request", detail: "The body ended before it was complete.");
        }
        finally
        {
            // Nothing is left behind by a refused, failed or abandoned upload (a stored one was moved away).
            File.Delete(temporary);
        }
    }

    private static async Task<Ok<FileUsageResponse>> UsageAsync(
        ClaimsPrincipal caller, ConnTextDbContext db, FileIngest ingest, CancellationToken cancellationToken) =>
        TypedResults.Ok(new FileUsageResponse(
            await FileIngest.UsedBytesAsync(db, caller.UserId(), cancellationToken), ingest.Options.QuotaBytesPerUser, ingest.Options.MaxFileBytes));

    private static async Task<Results<Ok<FileResponse>, ProblemHttpResult>> MetadataAsync(
        Guid fileId, ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken) =>
        await FileAccessRules.FindReadableAsync(db, fileId, caller.UserId(), cancellationToken) is { } file
            ? TypedResults.Ok(FileAccessRules.ToResponse(file))
            : FileNotFound();

    private static async Task<IResult> DownloadAsync(
        Guid fileId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, ContentStore store, CancellationToken cancellationToken)
    {
        var file = await FileAccessRules.FindReadableAsync(db, fileId, caller.UserId(), cancellationToken);
        var path = file is null ? null : store.BlobPath(file.Sha256);
        if (file is null || !File.Exists(path))
        {
            return FileNotFound();
        }

        var etag = new EntityTagHeaderValue($"\"{file.Sha256}\"");
        if (IsUnsatisfiable(context.Request, etag, file.Size))
        {
            // Answered here so the 416 is a problem document like every other error (the file result sends an empty body).
            context.Response.Headers.ContentRange = $"bytes */{file.Size}";
            return TypedResults.Problem(statusCode: StatusCodes.Status416RangeNotSatisfiable, type: ProblemTypes.RangeNotSatisfiable,
                title: "Range Not Satisfiable", detail: $"The file has {file.Size} bytes; the requested range lies outside it.");
        }

        var inline = ContentSniffer.SafeInlineImages.Contains(file.ContentType);
        var disposition = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        // filename (ASCII fallback) and filename* (RFC 5987 UTF-8), per RFC 6266.
        disposition.SetHttpFileName(file.Name);
        var headers = context.Response.Headers;
        headers.ContentDisposition = disposition.ToString();
        headers.ContentSecurityPolicy = DownloadPolicy;
        headers.XContentTypeOptions = "nosniff";
        // Access can be withdrawn (a message deleted), so caches revalidate with the server every time.
        headers.CacheControl = "private, no-cache";
        return TypedResults.PhysicalFile(path!, inline ? file.ContentType : ContentSniffer.OctetStream,
            lastModified: file.CreatedAt, entityTag: etag, enableRangeProcessing: true);
    }

    private static async Task<IResult> ThumbnailAsync(
        Guid fileId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, Thumbnails thumbnails, CancellationToken cancellationToken)
    {
        var file = await FileAccessRules.FindReadableAsync(db, fileId, caller.UserId(), cancellationToken);
        if (file is null)
        {
            return FileNotFound();
        }

        var (path, refusal) = await thumbnails.GetAsync(file, cancellationToken);
        if (path is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, type: ProblemTypes.ThumbnailUnavailable,
                title: "No Thumbnail", detail: refusal);
        }

        context.Response.Headers.CacheControl = "private, no-cache";
        context.Response.Headers.ContentSecurityPolicy = DownloadPolicy;
        return TypedResults.PhysicalFile(path, "image/png", lastModified: file.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}-thumbnail\""));
    }

    /// <summary>
    /// A single byte range wholly past the end (or an empty suffix) that the file result would answer with 416, when
    /// no precondition changes the answer first (a matching If-None-Match is a 304; If-Range may turn it into a 200).
    /// </summary>
    private static bool IsUnsatisfiable(HttpRequest request, EntityTagHeaderValue etag, long size)
    {
        var headers = request.GetTypedHeaders();
        if (headers.Range is not { } range || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1 || headers.IfRange is not null
            || headers.IfNoneMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(etag, useStrongComparison: false)))
        {
            return false;
        }

        var only = range.Ranges.Single();
        return only.From is { } from ? from >= size : only.To == 0;
    }

    private static ProblemHttpResult FileNotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
            title: "Not Found", detail: "No file with this id is shared with you.");

    private static ProblemHttpResult TooLarge(long max) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, type: ProblemTypes.PayloadTooLarge, title: "Payload Too Large",
            detail: $"A single-request upload is at most {max} bytes; upload larger files with tus at /api/v1/uploads.");

    private static void Validate(FilesOptions options)
    {
        Require(options.MaxFileBytes >= 1, "MaxFileBytes", "at least 1");
        Require(options.MaxSimpleUploadBytes >= 1, "MaxSimpleUploadBytes", "at least 1");
        Require(options.QuotaBytesPerUser >= 0, "QuotaBytesPerUser", "0 or more");
        Require(options.MinFreeDiskBytes >= 0, "MinFreeDiskBytes", "0 or more");
        Require(options.UploadExpiration > TimeSpan.Zero, "UploadExpiration", "a positive duration, e.g. 1.00:00:00");
        Require(options.UnreferencedFileGracePeriod >= TimeSpan.Zero, "UnreferencedFileGracePeriod", "a duration, e.g. 1.00:00:00");
        Require(options.CleanupInterval >= TimeSpan.FromSeconds(1), "CleanupInterval", "at least 00:00:01");
        Require(options.MaxThumbnailSourcePixels >= 1, "MaxThumbnailSourcePixels", "at least 1");
        Require(options.ThumbnailSize is >= 16 and <= 2048, "ThumbnailSize", "between 16 and 2048");
    }

    private static void Require(bool condition, string key, string expected)
    {
        if (!condition)
        {
            throw new StartupException($"{FilesOptions.Section}:{key}", $"must be {expected}.");
        }
    }
}
