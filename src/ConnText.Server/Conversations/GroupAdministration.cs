using System.Security.Claims;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Conversations;

/// <summary>A group's title and topic, and its members' roles (ownership transfer included): sequenced events like every other change.</summary>
internal static class GroupAdministration
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPatch("/{conversationId:guid}", UpdateAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("UpdateConversation")
            .WithSummary("Change a group's title or topic")
            .WithDescription("Owner or admin only. Leaves a conversation.updated event.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPut("/{conversationId:guid}/members/{userId:guid}/role", SetRoleAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("SetConversationMemberRole")
            .WithSummary("Make a member an admin or a member, or hand ownership over")
            .WithDescription("Owner only. Role \"owner\" transfers ownership: the target becomes the owner and the caller an admin. "
                + "Each change leaves a member.role_changed event.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Ok<ConversationResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid conversationId, UpdateConversationRequest request, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time,
        IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var title = request.Title?.Trim();
        var topic = request.Topic?.Trim();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Title is null && request.Topic is null)
        {
            errors["title"] = ["Give a new title, a new topic, or both."];
        }

        if (title is not null && Conversation.TitleError(title) is { } titleError)
        {
            errors["title"] = [titleError];
        }

        if (Conversation.TopicError(topic) is { } topicError)
        {
            errors["topic"] = [topicError];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The group change is not valid");
        }

        var me = caller.UserId();
        var now = time.GetUtcNow();
        ConversationEvent? appended = null;
        var refusal = await Sequencer.InTransactionAsync<ProblemHttpResult?>(db, async ct =>
        {
            if (await ConversationsEndpoints.CheckManagerAsync(db, conversationId, me, ct) is { } problem)
            {
                return problem;
            }

            var conversation = await db.Conversations.SingleAsync(c => c.Id == conversationId, ct);
            var newTitle = title ?? conversation.Title;
            var newTopic = topic is null ? conversation.Topic : topic.Length == 0 ? null : topic;
            if (newTitle == conversation.Title && newTopic == conversation.Topic)
            {
                await Sequencer.RollbackAsync(db, ct); // nothing changes: no event, no sequence spent
                return null;
            }

            var sequence = (await Sequencer.NextAsync(db, conversationId, now, ct))!.Value;
            await db.Conversations.Where(c => c.Id == conversationId)
                .ExecuteUpdateAsync(c => c.SetProperty(x => x.Title, newTitle).SetProperty(x => x.Topic, newTopic), ct);
            db.ConversationEvents.Add(new ConversationEvent
            {
                ConversationId = conversationId, Sequence = sequence, Kind = ConversationEventKinds.ConversationUpdated, ActorId = me, CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            appended = db.SavedEvent();
            return null;
        }, cancellationToken);

        if (refusal is not null)
        {
            return refusal;
        }

        await notifier.NotifyAsync(db, appended, me, cancellationToken);
        db.ChangeTracker.Clear();
        return TypedResults.Ok(await ConversationsEndpoints.LoadAsync(db,
            await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken), me, cancellationToken));
    }

    private static async Task<Results<Ok<ConversationResponse>, ValidationProblem, ProblemHttpResult>> SetRoleAsync(
        Guid conversationId, Guid userId, SetMemberRoleRequest request, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time,
        IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        if (request.Role is not (MemberRoles.Owner or MemberRoles.Admin or MemberRoles.Member))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["role"] = ["Give \"owner\", \"admin\" or \"member\"."] },
                type: ProblemTypes.Validation, title: "The role is not valid");
        }

        var me = caller.UserId();
        var now = time.GetUtcNow();
        var appended = new List<ConversationEvent>();
        var refusal = await Sequencer.InTransactionAsync<ProblemHttpResult?>(db, async ct =>
        {
            appended.Clear();
            if (await ConversationsEndpoints.CheckManagerAsync(db, conversationId, me, ct) is { } problem)
            {
                return problem;
            }

            var members = await db.ConversationMembers
                .Where(m => m.ConversationId == conversationId && (m.UserId == me || m.UserId == userId)).ToListAsync(ct);
            var actor = members.Single(m => m.UserId == me);
            var target = members.SingleOrDefault(m => m.UserId == userId);
            ProblemHttpResult? refused = actor.Role != MemberRoles.Owner ? Membership.Forbidden("Only the group's owner changes roles.")
                : target is null ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                    title: "Not Found", detail: "This user is not a member of the group.")
                : target.UserId == me ? Membership.Conflict("The owner hands ownership to another member rather than changing their own role.")
                : null;
            if (refused is not null)
            {
                await Sequencer.RollbackAsync(db, ct);
                return refused;
            }

            if (target!.Role == request.Role)
            {
                await Sequencer.RollbackAsync(db, ct);
                return null;
            }

            target.Role = request.Role;
            appended.Add(await RoleEventAsync(db, conversationId, me, userId, request.Role, now, ct));
            if (request.Role == MemberRoles.Owner)
            {
                actor.Role = MemberRoles.Admin;
                appended.Add(await RoleEventAsync(db, conversationId, me, me, MemberRoles.Admin, now, ct));
            }

            await db.SaveChangesAsync(ct);
            return null;
        }, cancellationToken);

        if (refusal is not null)
        {
            return refusal;
        }

        foreach (var e in appended)
        {
            await notifier.NotifyAsync(db, e, me, cancellationToken);
        }

        db.ChangeTracker.Clear();
        return TypedResults.Ok(await ConversationsEndpoints.LoadAsync(db,
            await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken), me, cancellationToken));
    }

    private static async Task<ConversationEvent> RoleEventAsync(
        ConnTextDbContext db, Guid conversationId, Guid actorId, Guid subjectUserId, string role, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sequence = (await Sequencer.NextAsync(db, conversationId, now, cancellationToken))!.Value;
        var e = new ConversationEvent
        {
            ConversationId = conversationId, Sequence = sequence, Kind = ConversationEventKinds.MemberRoleChanged, ActorId = actorId,
            SubjectUserId = subjectUserId, Role = role, CreatedAt = now,
        };
        db.ConversationEvents.Add(e);
        return e;
    }
}
