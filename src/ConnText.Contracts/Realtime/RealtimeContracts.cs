using ConnText.Contracts.Conversations;

namespace ConnText.Contracts.Realtime;

/// <summary>
/// The <c>EventAppended</c> server event of the realtime hub: one sequenced event of a conversation, sent to
/// its members' connections after it is committed. The same fields as an item of the REST events page, plus
/// the conversation it belongs to.
/// </summary>
public sealed record EventAppendedEvent(
    Guid ConversationId,
    long Sequence,
    string Kind,
    Guid ActorId,
    DateTimeOffset CreatedAt,
    Guid? MessageId,
    MessageResponse? Message,
    string? Emoji,
    Guid? SubjectUserId);
