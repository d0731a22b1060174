using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Conversations;

/// <summary>Membership checks shared by every conversation and message route.</summary>
internal static class Membership
{
    // Compiled: asked on nearly every request, so EF's per-call expression work (parameter extraction, cache look-up) is skipped.
    private static readonly PerModelQuery<Func<ConnTextDbContext, Guid, Guid, CancellationToken, Task<ConversationMember?>>> Find = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, Guid conversationId, Guid userId, CancellationToken cancellationToken) =>
            db.ConversationMembers.AsNoTracking().FirstOrDefault(m => m.ConversationId == conversationId && m.UserId == userId)));

    public static Task<ConversationMember?> FindAsync(ConnTextDbContext db, Guid conversationId, Guid userId, CancellationToken cancellationToken) =>
        Find.For(db)(db, conversationId, userId, cancellationToken);

    /// <summary>A non-member gets the same answer as for a missing conversation: ids are not confirmed to strangers.</summary>
    public static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
            title: "Not Found", detail: "You are not a member of a conversation with this id.");

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: ProblemTypes.Forbidden, title: "Forbidden", detail: detail);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict, title: "Conflict", detail: detail);

    public static bool ManagesMembers(ConversationMember member) => member.Role is MemberRoles.Owner or MemberRoles.Admin;

    /// <summary>
    /// Stores a member.joined / member.left event with its system message, under a sequence the caller has
    /// just taken with <see cref="Sequencer.NextAsync"/> in the same transaction.
    /// </summary>
    public static void AddMemberEvent(ConnTextDbContext db, Guid conversationId, long sequence, string kind, Guid actorId, Guid subjectUserId, DateTimeOffset now)
    {
        var message = new Message
        {
            Id = Guid.CreateVersion7(now),
            ConversationId = conversationId,
            Sequence = sequence,
            Kind = MessageKinds.System,
            SenderId = actorId,
            SystemEvent = kind,
            SubjectUserId = subjectUserId,
            CreatedAt = now,
        };
        db.Messages.Add(message);
        db.ConversationEvents.Add(new ConversationEvent
        {
            ConversationId = conversationId,
            Sequence = sequence,
            Kind = kind,
            ActorId = actorId,
            MessageId = message.Id,
            SubjectUserId = subjectUserId,
            CreatedAt = now,
        });
    }
}
