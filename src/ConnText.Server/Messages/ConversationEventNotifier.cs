using ConnText.Contracts.Conversations;
using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Messages;

/// <summary>
/// Told about every sequenced event right after its transaction committed (never before: a rolled-back
/// event must not reach anyone). The realtime hub implements it to push the event to connected members.
/// Implementations must not throw: the change is already stored, and the client's request has succeeded.
/// </summary>
internal interface IConversationEventNotifier
{
    Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken);

    /// <summary>A member's read marker moved forward (not sequenced: the latest value is all that counts).</summary>
    Task ReadAsync(Guid conversationId, Guid userId, long sequence);

    /// <summary>A conversation was created with these members (no sequenced event marks it).</summary>
    Task CreatedAsync(Guid conversationId, IReadOnlyList<Guid> memberIds);
}

/// <summary>Used when nothing listens (the realtime hub is not set up).</summary>
internal sealed class NoConversationEventNotifier : IConversationEventNotifier
{
    public Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReadAsync(Guid conversationId, Guid userId, long sequence) => Task.CompletedTask;

    public Task CreatedAsync(Guid conversationId, IReadOnlyList<Guid> memberIds) => Task.CompletedTask;
}

internal static class ConversationEventNotifierExtensions
{
    /// <summary>The event just saved in <paramref name="db"/>'s change tracker (call right after SaveChanges, inside the transaction).</summary>
    public static ConversationEvent? SavedEvent(this ConnTextDbContext db) =>
        db.ChangeTracker.Entries<ConversationEvent>().Select(e => e.Entity).LastOrDefault();

    /// <summary>After commit: tells <paramref name="notifier"/> about <paramref name="appended"/>, with its message as <paramref name="viewer"/> sees it.</summary>
    public static async Task NotifyAsync(this IConversationEventNotifier notifier, ConnTextDbContext db, ConversationEvent? appended, Guid viewer,
        CancellationToken cancellationToken)
    {
        if (appended is null)
        {
            return;
        }

        MessageResponse? view = null;
        if (appended.MessageId is { } id && await db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, cancellationToken) is { } message)
        {
            view = await MessageViews.ToResponseAsync(db, message, viewer, cancellationToken);
        }

        await notifier.AppendedAsync(appended, view, cancellationToken);
    }
}
