using System.Globalization;
using System.Security.Claims;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ConnText.Server.Profile;

/// <summary>
/// Avatars: any common image up to 5 MiB, checked by decoding (not by the client's Content-Type),
/// refused above 40 megapixels before decoding (decompression bombs), cropped to a 256×256 PNG and
/// stored in <c>{DataDirectory}/avatars</c>. Metadata (EXIF, GPS) does not survive the re-encoding.
/// </summary>
internal static partial class Avatars
{
    public const long MaxUploadBytes = 5 * 1024 * 1024;
    public const int MaxPixels = 40_000_000;
    public const int Size = 256;

    public static string? UrlFor(User user) =>
        user.AvatarUpdatedAt is { } updated ? $"/api/v1/users/{user.Id}/avatar?v={updated.ToUnixTimeMilliseconds()}" : null;

    public static void MapAvatarEndpoints(RouteGroupBuilder me, IEndpointRouteBuilder api)
    {
        me.MapPut("/avatar", UploadAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("SetMyAvatar")
            .WithSummary("Set my avatar")
            .WithDescription("The request body is the image itself (PNG, JPEG, GIF, WebP or BMP, at most 5 MiB). It is cropped to 256×256.")
            .Accepts<Stream>("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        me.MapDelete("/avatar", DeleteAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("DeleteMyAvatar")
            .WithSummary("Remove my avatar");

        api.MapGet("/users/{id:guid}/avatar", GetAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithTags("Users")
            .WithName("GetAvatar")
            .WithSummary("A user's avatar (256×256 PNG)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> UploadAsync(
        HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<ConnTextOptions> host, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var directory = Path.Combine(host.Value.ResolvedDataDirectory, "avatars");
        var userId = caller.UserId();
        switch (await ReceiveAsync(context, PathFor(directory, userId), cancellationToken))
        {
            case { Invalid: { } invalid }:
                return invalid;
            case { Problem: { } problem }:
                return problem;
        }

        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.AvatarUpdatedAt, time.GetUtcNow()), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteAsync(
        ClaimsPrincipal caller, ConnTextDbContext db, IOptions<ConnTextOptions> host, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.AvatarUpdatedAt, (DateTimeOffset?)null), cancellationToken);
        File.Delete(PathFor(Path.Combine(host.Value.ResolvedDataDirectory, "avatars"), userId));
        return TypedResults.NoContent();
    }

    private static async Task<IResult> GetAsync(
        Guid id, HttpContext context, ConnTextDbContext db, IOptions<ConnTextOptions> host, CancellationToken cancellationToken)
    {
        var updated = await db.Users.Where(u => u.Id == id && !u.IsDisabled).Select(u => u.AvatarUpdatedAt).FirstOrDefaultAsync(cancellationToken);
        var path = PathFor(Path.Combine(host.Value.ResolvedDataDirectory, "avatars"), id);
        if (updated is null || !File.Exists(path))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                title: "Not Found", detail: "This user has no avatar.");
        }

        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue(
            "\"" + updated.Value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\"");
        context.Response.Headers.CacheControl = "private, max-age=86400";
        return TypedResults.PhysicalFile(path, "image/png", entityTag: etag, lastModified: updated);
    }

    /// <summary>
    /// Reads an uploaded image from the request body (bounded, checked by decoding), and stores it at
    /// <paramref name="path"/> as a 256×256 PNG without metadata, atomically. Returns the refusal, or null when stored.
    /// </summary>
    internal static async Task<AvatarRefusal?> ReceiveAsync(HttpContext context, string path, CancellationToken cancellationToken)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxUploadBytes;
        }

        if (context.Request.ContentLength is > MaxUploadBytes)
        {
            return new AvatarRefusal(null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, type: ProblemTypes.PayloadTooLarge,
                title: "Payload Too Large", detail: "An avatar image is at most 5 MiB."));
        }

        // Buffer the (bounded) body: ImageSharp needs to read the header twice (identify, then decode).
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;

        IImageInfo? info;
        try
        {
            info = await Image.IdentifyAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is ImageFormatException or NotSupportedException)
        {
            // A header that starts like a known format and then breaks off (a truncated upload).
            return new AvatarRefusal(Invalid("The image is damaged or truncated."), null);
        }

        if (info is null)
        {
            return new AvatarRefusal(Invalid("The body is not an image in a supported format (PNG, JPEG, GIF, WebP, BMP)."), null);
        }

        if ((long)info.Width * info.Height > MaxPixels)
        {
            return new AvatarRefusal(Invalid($"The image is {info.Width}×{info.Height}; at most {MaxPixels / 1_000_000} megapixels are accepted."), null);
        }

        buffer.Position = 0;
        Image<Rgba32> image;
        try
        {
            image = await Image.LoadAsync<Rgba32>(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is ImageFormatException or NotSupportedException) // unknown, invalid or truncated content
        {
            return new AvatarRefusal(Invalid("The image is damaged or truncated."), null);
        }

        using (image)
        {
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(Size, Size), Mode = ResizeMode.Crop }));
            image.Metadata.ExifProfile = null;
            image.Metadata.XmpProfile = null;
            image.Metadata.IptcProfile = null;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + $".{Guid.NewGuid():N}.tmp";
            await image.SaveAsPngAsync(temporary, new PngEncoder(), cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }

        return null;
    }

    private static string PathFor(string directory, Guid userId) => Path.Combine(directory, userId.ToString("N") + ".png");

    private static ValidationProblem Invalid(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["image"] = [message] },
            type: ProblemTypes.Validation, title: "The avatar is not valid");
}

/// <summary>Why an uploaded avatar was refused: an invalid image, or another problem (too large).</summary>
internal sealed record AvatarRefusal(ValidationProblem? Invalid, ProblemHttpResult? Problem);
