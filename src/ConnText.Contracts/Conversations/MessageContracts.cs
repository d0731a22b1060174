using ConnText.Contracts.Calls;

namespace ConnText.Contracts.Conversations;

/// <summary>The kinds of message.</summary>
public static class MessageKinds
{
    /// <summary>Written by a member.</summary>
    public const string Text = "text";

    /// <summary>Written by the server (member joined or left, call ended); see <see cref="MessageResponse.SystemEvent"/>.</summary>
    public const string System = "system";
}

/// <summary>The kinds of sequenced conversation events returned by the sync endpoint.</summary>
public static class ConversationEventKinds
{
    /// <summary>A message was created; <c>message</c> carries it.</summary>
    public const string MessageCreated = "message.created";

    /// <summary>A message's text changed; <c>message</c> carries its current state.</summary>
    public const string MessageEdited = "message.edited";

    /// <summary>A message was deleted; <c>message</c> carries the tombstone.</summary>
    public const string MessageDeleted = "message.deleted";

    /// <summary>A reaction was added; <c>emoji</c> and <c>actorId</c> say which and by whom.</summary>
    public const string ReactionAdded = "reaction.added";

    /// <summary>A reaction was removed; <c>emoji</c> and <c>actorId</c> say which and by whom.</summary>
    public const string ReactionRemoved = "reaction.removed";

    /// <summary>A member joined (was added); <c>subjectUserId</c> names them, <c>message</c> is the system message.</summary>
    public const string MemberJoined = "member.joined";

    /// <summary>A member left or was removed; <c>subjectUserId</c> names them, <c>message</c> is the system message.</summary>
    public const string MemberLeft = "member.left";

    /// <summary>A member's role changed (<c>subjectUserId</c>, new <c>role</c>); an ownership transfer is two of these.</summary>
    public const string MemberRoleChanged = "member.role_changed";

    /// <summary>The group's title or topic changed; fetch the conversation for the new values.</summary>
    public const string ConversationUpdated = "conversation.updated";

    /// <summary>A call ended; <c>message</c> is its system message, whose <c>call</c> says how (missed, declined, duration, …).</summary>
    public const string CallEnded = "call.ended";
}

/// <summary>Sends a message. Retrying with the same <paramref name="ClientMessageId"/> stores it once.</summary>
/// <param name="ClientMessageId">A GUID the client chooses per message; a retry with the same id returns the stored message.</param>
/// <param name="Text">The text (a Markdown subset), 1 to the server's limit (default 16,384) characters; may be left out when files are attached.</param>
/// <param name="ReplyToMessageId">The message this one replies to, in the same conversation.</param>
/// <param name="AttachmentIds">Files to attach (default at most 10): each one I uploaded or one already shared with me.</param>
public sealed record SendMessageRequest(Guid? ClientMessageId, string? Text, Guid? ReplyToMessageId = null, IReadOnlyList<Guid>? AttachmentIds = null);

/// <summary>Replaces a message's text.</summary>
/// <param name="Text">The new text, 1 to the server's limit characters.</param>
public sealed record EditMessageRequest(string? Text);

/// <summary>Moves my read marker forward.</summary>
/// <param name="Sequence">The last sequence I have seen; a smaller value than the stored one is ignored.</param>
public sealed record MarkReadRequest(long Sequence);

/// <summary>My read marker in a conversation.</summary>
/// <param name="LastReadSequence">The stored last read sequence.</param>
public sealed record ReadStateResponse(long LastReadSequence);

/// <summary>How many members reacted with one emoji.</summary>
/// <param name="Emoji">The emoji.</param>
/// <param name="Count">How many members reacted with it.</param>
/// <param name="Mine">Whether I am one of them.</param>
public sealed record ReactionCountResponse(string Emoji, int Count, bool Mine);

/// <summary>A message; a deleted one is a tombstone without text.</summary>
/// <param name="Id">The server's message id.</param>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Sequence">The sequence number of the event that created it.</param>
/// <param name="Kind"><c>text</c> or <c>system</c>.</param>
/// <param name="SenderId">The sender; for system messages, the member who caused it.</param>
/// <param name="ClientMessageId">The sender's client-chosen id.</param>
/// <param name="Text">The text; null once deleted and for system messages.</param>
/// <param name="ReplyToMessageId">The message this one replies to.</param>
/// <param name="SystemEvent">For system messages: <c>member.joined</c>, <c>member.left</c> or <c>call.ended</c>.</param>
/// <param name="SubjectUserId">For system messages: the member who joined or left.</param>
/// <param name="CreatedAt">When the server stored it.</param>
/// <param name="EditedAt">When it was last edited.</param>
/// <param name="DeletedAt">When it was deleted.</param>
/// <param name="Reactions">Reaction counts per emoji.</param>
/// <param name="Mentions">The members mentioned with <c>@username</c>, resolved when sent or edited.</param>
/// <param name="Attachments">The attached files, in the sender's order; empty once the message is deleted.</param>
/// <param name="Call">For <c>call.ended</c> system messages: the call's media, end reason and duration.</param>
public sealed record MessageResponse(
    Guid Id,
    Guid ConversationId,
    long Sequence,
    string Kind,
    Guid? SenderId,
    Guid? ClientMessageId,
    string? Text,
    Guid? ReplyToMessageId,
    string? SystemEvent,
    Guid? SubjectUserId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EditedAt,
    DateTimeOffset? DeletedAt,
    IReadOnlyList<ReactionCountResponse> Reactions,
    IReadOnlyList<Guid> Mentions,
    IReadOnlyList<ConnText.Contracts.Files.FileResponse> Attachments,
    CallSummaryResponse? Call = null);

/// <summary>A page of messages in ascending sequence order.</summary>
/// <param name="Items">The messages, oldest first.</param>
/// <param name="HasMore">Whether more messages exist in the direction asked for.</param>
public sealed record MessagePageResponse(IReadOnlyList<MessageResponse> Items, bool HasMore);

/// <summary>One sequenced change in a conversation.</summary>
/// <param name="Sequence">Gapless, strictly increasing per conversation.</param>
/// <param name="Kind">See <see cref="ConversationEventKinds"/>.</param>
/// <param name="ActorId">Who caused it.</param>
/// <param name="CreatedAt">When it happened.</param>
/// <param name="MessageId">The message it concerns.</param>
/// <param name="Message">The message's current state (for message and member events).</param>
/// <param name="Emoji">For reaction events: the emoji.</param>
/// <param name="SubjectUserId">For member events: the member who joined or left.</param>
/// <param name="Role">For member.role_changed: the new role.</param>
public sealed record ConversationEventResponse(
    long Sequence,
    string Kind,
    Guid ActorId,
    DateTimeOffset CreatedAt,
    Guid? MessageId,
    MessageResponse? Message,
    string? Emoji,
    Guid? SubjectUserId,
    string? Role = null);

/// <summary>Events after a sequence, in order.</summary>
/// <param name="Items">The events, ascending by sequence.</param>
/// <param name="LastSequence">The conversation's latest sequence when read.</param>
/// <param name="HasMore">Whether more events follow the last one returned.</param>
public sealed record ConversationEventPageResponse(IReadOnlyList<ConversationEventResponse> Items, long LastSequence, bool HasMore);
