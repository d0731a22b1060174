using ConnText.Contracts.Conversations;

namespace ConnText.Server.Messages;

/// <summary>
/// Told about every sequenced event right after its transaction committed (never before: a rolled-back
/// event must not reach anyone). The realtime hub implements it to push the event to connected members.
/// Implementations must not throw: the change is already stored, and the client's request has succeeded.
/// </summary>
internal interface IConversationEventNotifier
{
    Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken);
}

/// <summary>Used when nothing listens (the realtime hub is not set up).</summary>
internal sealed class NoConversationEventNotifier : IConversationEventNotifier
{
    public Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken) => Task.CompletedTask;
}
