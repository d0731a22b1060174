using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnText.AspNetRelay;

/// <summary>The rooms of both endpoints: a sequence each and, for the WebSocket endpoint, its members.</summary>
internal sealed class Rooms
{
    private readonly ConcurrentDictionary<string, Room> rooms = new(StringComparer.Ordinal);

    public Room Get(string id) => rooms.GetOrAdd(id, static key => new Room(key));
}

internal sealed class Room(string id)
{
    private readonly Lock gate = new();
    private long sequence;

    public string Id { get; } = id;

    /// <summary>Copied on join and leave (rare), read without a lock on every message.</summary>
    public ImmutableArray<WebSocketMember> Members { get; private set; } = [];

    public long NextSequence() => Interlocked.Increment(ref sequence);

    public void Join(WebSocketMember member)
    {
        lock (gate)
        {
            Members = Members.Add(member);
        }
    }

    public void Leave(WebSocketMember member)
    {
        lock (gate)
        {
            Members = Members.Remove(member);
        }
    }
}

/// <summary>The same object relay.js builds (ConnText's <c>EventAppended</c> shape).</summary>
internal sealed record RelayEvent(
    string ConversationId, long Sequence, string Kind, string ActorId, DateTimeOffset CreatedAt, Guid MessageId,
    RelayMessage Message, string? Emoji, string? SubjectUserId)
{
    public static RelayEvent Create(string roomId, long sequence, string userId, Guid clientMessageId, string text)
    {
        var now = DateTimeOffset.UtcNow;
        var messageId = Guid.NewGuid();
        return new RelayEvent(roomId, sequence, "message.created", userId, now, messageId,
            new RelayMessage(messageId, roomId, sequence, "text", userId, clientMessageId, text, null, null, null, now,
                null, null, [], []),
            null, null);
    }
}

internal sealed record RelayMessage(
    Guid Id, string ConversationId, long Sequence, string Kind, string SenderId, Guid ClientMessageId, string Text,
    Guid? ReplyToMessageId, string? SystemEvent, string? SubjectUserId, DateTimeOffset CreatedAt,
    DateTimeOffset? EditedAt, DateTimeOffset? DeletedAt, string[] Reactions, string[] Mentions);

internal sealed record RelaySend(string? Type, string? Room, Guid Id, string? Text);

internal sealed record RelayFrame(string Type, RelayEvent Event);

internal sealed record RelayAck(string Type, Guid Id, long Sequence);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RelaySend))]
[JsonSerializable(typeof(RelayFrame))]
[JsonSerializable(typeof(RelayAck))]
internal sealed partial class RelayJson : JsonSerializerContext;
