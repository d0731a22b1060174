using System.Security.Cryptography;
using ConnText.Client.Api;
using ConnText.Client.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ConnText.UI.Shell;

/// <summary>
/// The receiving side of a direct (peer-to-peer) file transfer (wwwroot/peers.js): the window hands the bytes that
/// arrive over the data channel to the host, which appends them to <c>{data}/transfers/{account}/{id}.part</c>, says
/// how much it has (so an interrupted transfer resumes there), and at the end checks the SHA-256 the sender announced
/// before moving the file to <c>{data}/received/</c>. Also the fallback when no direct connection can be made: the
/// window streams the file here and the host uploads it to the server and sends it as a message's attachment.
/// Behind the same local access gate as everything else the host serves.
/// </summary>
public static class PeerTransferEndpoints
{
    /// <summary>A transfer's part file may not grow past this (the sender announced the size; no other limit).</summary>
    private const long FallbackMaxBytes = 16L * 1024 * 1024 * 1024;

    /// <summary>Maps the transfer routes.</summary>
    public static IEndpointRouteBuilder MapConnTextPeerTransfers(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/p2p/{accountId:guid}");
        group.MapGet("/incoming/{id:guid}", (Guid accountId, Guid id, AccountManager accounts) =>
            Session(accounts, accountId) is null ? NotFound() : Results.Json(new Stored(Length(PartPath(accounts, accountId, id)))));
        group.MapPut("/incoming/{id:guid}", AppendAsync);
        group.MapDelete("/incoming/{id:guid}", (Guid accountId, Guid id, AccountManager accounts) =>
        {
            File.Delete(PartPath(accounts, accountId, id));
            return Results.NoContent();
        });
        group.MapPost("/incoming/{id:guid}/complete", CompleteAsync);
        group.MapPost("/fallback/{conversationId:guid}", FallbackAsync);
        return endpoints;
    }

    /// <summary>
    /// Writes a piece at <c>?offset=</c>, which may not lie beyond what is stored (409 with the length then). An offset
    /// inside what is stored rewrites those bytes: a piece sent twice after a reconnect is the same bytes of the same
    /// file, so it cannot shift or corrupt it.
    /// </summary>
    private static async Task<IResult> AppendAsync(HttpContext context, Guid accountId, Guid id, long? offset, AccountManager accounts)
    {
        if (Session(accounts, accountId) is null)
        {
            return NotFound();
        }

        var path = PartPath(accounts, accountId, id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
        if (offset is not { } at || at < 0 || at > file.Length)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Wrong offset",
                detail: $"This transfer has {file.Length} bytes stored; send from there.", extensions: new Dictionary<string, object?> { ["received"] = file.Length });
        }

        file.Seek(at, SeekOrigin.Begin);
        await context.Request.Body.CopyToAsync(file, context.RequestAborted);
        await file.FlushAsync(context.RequestAborted);
        return Results.Json(new Stored(file.Length));
    }

    /// <summary>Checks length and SHA-256 against what the sender announced; on a match the file moves to received/.</summary>
    private static async Task<IResult> CompleteAsync(Guid accountId, Guid id, CompleteRequest request, AccountManager accounts, CancellationToken cancellationToken)
    {
        if (Session(accounts, accountId) is null)
        {
            return NotFound();
        }

        var path = PartPath(accounts, accountId, id);
        var length = Length(path);
        if (length != request.Size)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Incomplete",
                detail: $"{length} of {request.Size} bytes arrived.", extensions: new Dictionary<string, object?> { ["received"] = length });
        }

        string actual;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
        {
            actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        }

        if (!string.Equals(actual, request.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(path); // which bytes are wrong is unknown: the transfer starts over if tried again
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Checksum mismatch",
                detail: $"The file's SHA-256 is {actual}, not the {request.Sha256} the sender announced; it was discarded.");
        }

        var directory = Path.Combine(accounts.DataDirectory, "received");
        Directory.CreateDirectory(directory);
        var target = FreeName(directory, SafeName(request.Name));
        File.Move(path, target);
        return Results.Json(new Completed(target, actual));
    }

    /// <summary>No direct connection: the file goes to the server (tus upload) and into the conversation as an attachment.</summary>
    private static async Task<IResult> FallbackAsync(HttpContext context, Guid accountId, Guid conversationId, string? name, AccountManager accounts)
    {
        if (Session(accounts, accountId) is not { } session)
        {
            return NotFound();
        }

        if (context.Request.ContentLength is not { } length || length > FallbackMaxBytes)
        {
            return Results.Problem(statusCode: StatusCodes.Status411LengthRequired, title: "Length required", detail: "Send the file with its Content-Length.");
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null; // the server applies its own file size limit
        }

        try
        {
            var stored = await session.UploadAsync(context.Request.Body, length, SafeName(name), null, context.RequestAborted);
            var message = await session.SendWithAttachmentsAsync(conversationId, null, null, [stored.Id], context.RequestAborted);
            return Results.Json(new { messageId = message.Id, fileId = stored.Id });
        }
        catch (ApiException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The server refused the file", detail: ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The server is unreachable", detail: ex.Message);
        }
    }

    private static AccountSession? Session(AccountManager accounts, Guid accountId) =>
        accounts.Sessions.FirstOrDefault(s => s.Account.Id == accountId);

    private static IResult NotFound() => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such account");

    private static string PartPath(AccountManager accounts, Guid accountId, Guid id) =>
        Path.Combine(accounts.DataDirectory, "transfers", accountId.ToString("N"), id.ToString("N") + ".part");

    private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>The sender's file name without directories or characters the file system (or a shell) trips on.</summary>
    internal static string SafeName(string? name)
    {
        var leaf = Path.GetFileName((name ?? "").Replace('\\', '/'));
        var invalid = Path.GetInvalidFileNameChars();
        var safe = new string([.. leaf.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c)]).Trim().TrimStart('.');
        return safe.Length == 0 ? "file" : safe[..Math.Min(safe.Length, 200)];
    }

    private static string FreeName(string directory, string name)
    {
        var candidate = Path.Combine(directory, name);
        for (var n = 2; File.Exists(candidate); n++)
        {
            candidate = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(name)} ({n}){Path.GetExtension(name)}");
        }

        return candidate;
    }

    private sealed record Stored(long Received);

    private sealed record Completed(string Path, string Sha256);

    /// <summary>What the sender announced.</summary>
    internal sealed record CompleteRequest(string? Name, long Size, string? Sha256);
}
