using System.Globalization;
using System.Security.Claims;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using ConnText.Server.Messages;
using ConnText.Server.Profile;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Conversations;

/// <summary>
/// A group's avatar: set and removed by its owner and admins (the image rules of user avatars: decoded, at most 5 MiB
/// and 40 megapixels, cropped to a 256×256 PNG without metadata), seen by its members only. Each change is a
/// sequenced <c>conversation.updated</c> event, so every member's devices refresh the group.
/// </summary>
internal static class GroupAvatars
{
    public static string? UrlFor(Conversation conversation) => conversation.AvatarUpdatedAt is { } updated
        ? $"/api/v1/conversations/{conversation.Id}/avatar?v={updated.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}"
        : null;

    public static void Map(RouteGroupBuilder group)
    {
        group.MapPut("/{conversationId:guid}/avatar", SetAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("SetConversationAvatar")
            .WithSummary("Set a group's avatar")
            .WithDescription("Owner or admin only. The request body is the image itself (PNG, JPEG, GIF, WebP or BMP, at most 5 MiB); "
                + "it is cropped to 256×256. Leaves a conversation.updated event.")
            .Accepts<Stream>("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapDelete("/{conversationId:guid}/avatar", DeleteAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("DeleteConversationAvatar")
            .WithSummary("Remove a group's avatar")
            .WithDescription("Owner or admin only. Leaves a conversation.updated event when there was one.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{conversationId:guid}/avatar", GetAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetConversationAvatar")
            .WithSummary("A group's avatar (256×256 PNG)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<ConversationResponse>, ValidationProblem, ProblemHttpResult>> SetAsync(
        Guid conversationId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<ConnTextOptions> host,
        TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        // Refused before reading a 5 MiB body; checked again in the transaction (roles can change meanwhile).
        if (await CheckAsync(db, conversationId, me, cancellationToken) is { } early)
        {
            return early;
        }

        var path = PathFor(host.Value, conversationId);
        // Staged beside the final file and moved into place only once the change is committed.
        var staged = path + $".{Guid.NewGuid():N}.staged";
        try
        {
            switch (await Avatars.ReceiveAsync(context, staged, cancellationToken))
            {
                case { Invalid: { } invalid }:
                    return invalid;
                case { Problem: { } problem }:
                    return problem;
            }

            var now = time.GetUtcNow();
            var (refusal, appended) = await AppendAsync(db, conversationId, me, now, now, cancellationToken);
            if (refusal is not null)
            {
                return refusal;
            }

            File.Move(staged, path, overwrite: true);
            await notifier.NotifyAsync(db, appended, me, cancellationToken);
            return TypedResults.Ok(await LoadAsync(db, conversationId, me, cancellationToken));
        }
        finally
        {
            File.Delete(staged);
        }
    }

    private static async Task<Results<Ok<ConversationResponse>, ProblemHttpResult>> DeleteAsync(
        Guid conversationId, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<ConnTextOptions> host, TimeProvider time,
        IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        if (await CheckAsync(db, conversationId, me, cancellationToken) is { } early)
        {
            return early;
        }

        if (await db.Conversations.AnyAsync(c => c.Id == conversationId && c.AvatarUpdatedAt != null, cancellationToken))
        {
            var (refusal, appended) = await AppendAsync(db, conversationId, me, null, time.GetUtcNow(), cancellationToken);
            if (refusal is not null)
            {
                return refusal;
            }

            File.Delete(PathFor(host.Value, conversationId));
            await notifier.NotifyAsync(db, appended, me, cancellationToken);
        }

        return TypedResults.Ok(await LoadAsync(db, conversationId, me, cancellationToken));
    }

    private static async Task<IResult> GetAsync(
        Guid conversationId, HttpContext context, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<ConnTextOptions> host,
        CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var updated = await db.ConversationMembers
            .Where(m => m.ConversationId == conversationId && m.UserId == me)
            .Select(m => db.Conversations.Where(c => c.Id == conversationId).Select(c => c.AvatarUpdatedAt).Single())
            .FirstOrDefaultAsync(cancellationToken);
        var path = PathFor(host.Value, conversationId);
        if (updated is null || !File.Exists(path))
        {
            // Not a member, no such conversation, or no avatar: the same answer (ids are not confirmed to strangers).
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                title: "Not Found", detail: "This conversation has no avatar you can see.");
        }

        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue(
            "\"" + updated.Value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\"");
        context.Response.Headers.CacheControl = "private, max-age=86400";
        return TypedResults.PhysicalFile(path, "image/png", entityTag: etag, lastModified: updated);
    }

    /// <summary>The manager check outside a transaction, to refuse early.</summary>
    private static async Task<ProblemHttpResult?> CheckAsync(ConnTextDbContext db, Guid conversationId, Guid me, CancellationToken cancellationToken) =>
        await Sequencer.InTransactionAsync(db, async ct =>
        {
            var problem = await ConversationsEndpoints.CheckManagerAsync(db, conversationId, me, ct);
            if (problem is null)
            {
                await Sequencer.RollbackAsync(db, ct); // nothing to write yet
            }

            return problem;
        }, cancellationToken);

    /// <summary>Sets (or clears) the avatar's version and appends the sequenced event, in one transaction.</summary>
    private static async Task<(ProblemHttpResult? Refusal, ConversationEvent? Appended)> AppendAsync(
        ConnTextDbContext db, Guid conversationId, Guid me, DateTimeOffset? avatarUpdatedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ConversationEvent? appended = null;
        var refusal = await Sequencer.InTransactionAsync<ProblemHttpResult?>(db, async ct =>
        {
            if (await ConversationsEndpoints.CheckManagerAsync(db, conversationId, me, ct) is { } problem)
            {
                return problem;
            }

            var sequence = (await Sequencer.NextAsync(db, conversationId, now, ct))!.Value;
            await db.Conversations.Where(c => c.Id == conversationId)
                .ExecuteUpdateAsync(c => c.SetProperty(x => x.AvatarUpdatedAt, avatarUpdatedAt), ct);
            db.ConversationEvents.Add(new ConversationEvent
            {
                ConversationId = conversationId, Sequence = sequence, Kind = ConversationEventKinds.ConversationUpdated, ActorId = me, CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            appended = db.SavedEvent();
            return null;
        }, cancellationToken);
        return (refusal, appended);
    }

    private static async Task<ConversationResponse> LoadAsync(ConnTextDbContext db, Guid conversationId, Guid me, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return await ConversationsEndpoints.LoadAsync(db,
            await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken), me, cancellationToken);
    }

    private static string PathFor(ConnTextOptions host, Guid conversationId) =>
        Path.Combine(host.ResolvedDataDirectory, "avatars", "conversations", conversationId.ToString("N") + ".png");
}
