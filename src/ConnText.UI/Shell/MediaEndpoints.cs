using System.Net;
using ConnText.Client.Auth;
using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace ConnText.UI.Shell;

/// <summary>
/// Avatars, files and thumbnails of an account's server, relayed under the window's own origin
/// (<c>/media/{accountId}/…</c>): the server wants the account's bearer token, which stays in the engine and never
/// reaches the page. These routes sit behind the same local access gate as everything else the host serves.
/// </summary>
public static class MediaEndpoints
{
    // Files are whatever someone uploaded, served on the UI's own origin: only these image types are shown inline, and
    // everything goes out with a sandboxing CSP and nosniff, so a crafted file cannot run script next to the UI.
    private const string FilePolicy = "default-src 'none'; sandbox";

    private static readonly HashSet<string> InlineImages = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/gif", "image/webp" };

    // 1×1 transparent PNG: "no avatar" (or offline) lets the initials under the image show.
    private static readonly byte[] NoAvatar = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=");

    /// <summary>Maps the media routes.</summary>
    public static IEndpointRouteBuilder MapConnTextMedia(this IEndpointRouteBuilder endpoints)
    {
        var media = endpoints.MapGroup("/media/{accountId:guid}");
        media.MapGet("/avatars/{userId:guid}", AvatarAsync);
        media.MapGet("/files/{fileId:guid}", (HttpContext context, Guid accountId, Guid fileId, AccountManager accounts) =>
            FileAsync(context, accounts, accountId, fileId, thumbnail: false));
        media.MapGet("/thumbnails/{fileId:guid}", (HttpContext context, Guid accountId, Guid fileId, AccountManager accounts) =>
            FileAsync(context, accounts, accountId, fileId, thumbnail: true));
        return endpoints;
    }

    /// <summary>The URL of a user's avatar as the window loads it.</summary>
    public static string AvatarUrl(Guid accountId, Guid userId, string? version = null) =>
        $"media/{accountId:D}/avatars/{userId:D}" + (version is null ? "" : "?v=" + Uri.EscapeDataString(version));

    /// <summary>The URL of a file (download or inline image).</summary>
    public static string FileUrl(Guid accountId, Guid fileId) => $"media/{accountId:D}/files/{fileId:D}";

    /// <summary>The URL of an image file's thumbnail.</summary>
    public static string ThumbnailUrl(Guid accountId, Guid fileId) => $"media/{accountId:D}/thumbnails/{fileId:D}";

    private static async Task AvatarAsync(HttpContext context, Guid accountId, Guid userId, AccountManager accounts)
    {
        var session = accounts.Sessions.FirstOrDefault(s => s.Account.Id == accountId);
        if (session is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        try
        {
            using var response = await session.Api.GetAvatarAsync(userId, context.Request.Headers.IfNoneMatch.ToString(), context.RequestAborted);
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            if (response.IsSuccessStatusCode)
            {
                // Revalidated on each load (the server answers 304 while it is unchanged), so a new avatar shows at once.
                context.Response.Headers.CacheControl = "private, no-cache";
                if (response.Headers.ETag is { } etag)
                {
                    context.Response.Headers.ETag = etag.ToString();
                }

                context.Response.ContentType = "image/png";
                context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
                await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
                return;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or SignInRequiredException)
        {
            // Offline or signed out: the initials stand in.
        }

        context.Response.ContentType = "image/png";
        context.Response.Headers.CacheControl = "private, no-cache";
        await context.Response.Body.WriteAsync(NoAvatar, context.RequestAborted);
    }

    private static async Task FileAsync(HttpContext context, AccountManager accounts, Guid accountId, Guid fileId, bool thumbnail)
    {
        var session = accounts.Sessions.FirstOrDefault(s => s.Account.Id == accountId);
        if (session is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        try
        {
            using var response = await session.Api.OpenFileAsync(fileId, thumbnail, context.RequestAborted);
            if (!response.IsSuccessStatusCode)
            {
                context.Response.StatusCode = (int)response.StatusCode;
                return;
            }

            var headers = context.Response.Headers;
            var type = response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
            var inline = InlineImages.Contains(type);
            context.Response.ContentType = inline ? type : "application/octet-stream";
            headers.ContentSecurityPolicy = FilePolicy;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers.CacheControl = "private, max-age=86400"; // A file id's content never changes.
            if (!inline)
            {
                var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"') ?? "file";
                headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = name }.ToString();
            }

            if (response.Content.Headers.ContentLength is { } length)
            {
                context.Response.ContentLength = length;
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or SignInRequiredException)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway; // The server cannot be reached.
            }
        }
    }
}
