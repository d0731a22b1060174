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
    Guid? SubjectUserId,
    string? Role = null);

/// <summary>
/// The <c>Typing</c> server event: a member is typing in a conversation. Ephemeral (never stored, never
/// replayed); show it until <see cref="ExpiresAfterMs"/> passes without another one, or until that member's
/// next message arrives.
/// </summary>
public sealed record TypingEvent(Guid ConversationId, Guid UserId, int ExpiresAfterMs);

/// <summary>The <c>ReadReceipt</c> server event: a member's read marker in a conversation moved forward to <see cref="Sequence"/>.</summary>
public sealed record ReadReceiptEvent(Guid ConversationId, Guid UserId, long Sequence);

/// <summary>
/// The <c>PresenceChanged</c> server event, sent to the user and to everyone who shares a conversation with
/// them: the user's state over all their devices (<see cref="PresenceStates"/>); <see cref="LastSeenAt"/> is
/// when their last device went away (null while online, and for a user who hides their presence).
/// </summary>
public sealed record PresenceChangedEvent(Guid UserId, string State, DateTimeOffset? LastSeenAt);

/// <summary>The <c>ConversationAdded</c> server event: I became a member of a conversation (created, or added to it); fetch it over REST.</summary>
public sealed record ConversationAddedEvent(Guid ConversationId);

/// <summary>The <c>ConversationRemoved</c> server event: I am no longer a member of a conversation (left or removed).</summary>
public sealed record ConversationRemovedEvent(Guid ConversationId);

/// <summary>The <c>ConversationSettingsChanged</c> server event, to my own devices: my settings of a conversation changed (on any device).</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Muted">Whether I muted it.</param>
public sealed record ConversationSettingsChangedEvent(Guid ConversationId, bool Muted);

/// <summary>The states of <see cref="PresenceChangedEvent"/>.</summary>
public static class PresenceStates
{
    /// <summary>At least one device is connected and in use.</summary>
    public const string Online = "online";

    /// <summary>Devices are connected but idle.</summary>
    public const string Away = "away";

    /// <summary>No device is connected (or the user hides their presence).</summary>
    public const string Offline = "offline";
}

/// <summary>A user's presence as <c>GET /api/v1/presence</c> reports it; <see cref="LastSeenAt"/> only while offline.</summary>
public sealed record PresenceResponse(Guid UserId, string State, DateTimeOffset? LastSeenAt);

/// <summary>My presence settings.</summary>
public sealed record PresenceSettingsResponse(bool Hidden);

/// <summary>Hide (true) or show my presence.</summary>
public sealed record PresenceSettingsRequest(bool Hidden);
