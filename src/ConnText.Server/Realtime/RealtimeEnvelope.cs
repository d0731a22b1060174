using System.Text.Json;
using ConnText.Contracts.Realtime;

namespace ConnText.Server.Realtime;

/// <summary>
/// One thing every server node (this one included) does with its own hub connections: apply a membership change,
/// push a server event to a conversation's or some users' connections, or close connections whose credential
/// ended. With Redis configured it travels between nodes as JSON (<see cref="RealtimeEnvelopeJson"/>).
/// </summary>
internal sealed record RealtimeEnvelope
{
    /// <summary>The client method (server event name) to push; null for a control-only envelope.</summary>
    public string? Method { get; init; }

    public object? Payload { get; init; }

    /// <summary>Push to the connections that are in this conversation.</summary>
    public Guid? ConversationId { get; init; }

    /// <summary>Push to every connection of these users.</summary>
    public IReadOnlyList<Guid>? UserIds { get; init; }

    /// <summary>Before the push: this user's connections join <see cref="ConversationId"/>.</summary>
    public Guid? JoinUserId { get; init; }

    /// <summary>After the push: this user's connections leave <see cref="ConversationId"/>.</summary>
    public Guid? LeaveUserId { get; init; }

    /// <summary>Close the connections made with a token of this session.</summary>
    public Guid? CloseSessionId { get; init; }

    /// <summary>Close every connection of this user (account disabled).</summary>
    public Guid? CloseUserId { get; init; }

    /// <summary>Close the connections made with this personal access token.</summary>
    public Guid? CloseAccessTokenId { get; init; }
}

/// <summary>The envelope's wire form between nodes: the payload's type follows from the method name.</summary>
internal static class RealtimeEnvelopeJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> PayloadTypes = new(StringComparer.Ordinal)
    {
        [RealtimeEvents.EventAppended] = typeof(EventAppendedEvent),
        [RealtimeEvents.Typing] = typeof(TypingEvent),
        [RealtimeEvents.ReadReceipt] = typeof(ReadReceiptEvent),
        [RealtimeEvents.PresenceChanged] = typeof(PresenceChangedEvent),
        [RealtimeEvents.ConversationAdded] = typeof(ConversationAddedEvent),
        [RealtimeEvents.ConversationRemoved] = typeof(ConversationRemovedEvent),
        [RealtimeEvents.ConversationSettingsChanged] = typeof(ConversationSettingsChangedEvent),
    };

    public static byte[] Serialize(RealtimeEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(new Wire(
        envelope.Method, envelope.Payload is null ? null : JsonSerializer.SerializeToElement(envelope.Payload, envelope.Payload.GetType(), Options),
        envelope.ConversationId, envelope.UserIds, envelope.JoinUserId, envelope.LeaveUserId, envelope.CloseSessionId, envelope.CloseUserId,
        envelope.CloseAccessTokenId), Options);

    /// <summary>Null for anything unreadable (a newer node's event this node does not know): skipped, never a crash.</summary>
    public static RealtimeEnvelope? Deserialize(ReadOnlySpan<byte> json)
    {
        Wire? wire;
        try
        {
            wire = JsonSerializer.Deserialize<Wire>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }

        if (wire is null)
        {
            return null;
        }

        object? payload = null;
        if (wire.Method is not null)
        {
            if (!PayloadTypes.TryGetValue(wire.Method, out var type) || wire.Payload is not { } element)
            {
                return null;
            }

            payload = element.Deserialize(type, Options);
        }

        return new RealtimeEnvelope
        {
            Method = wire.Method, Payload = payload, ConversationId = wire.ConversationId, UserIds = wire.UserIds,
            JoinUserId = wire.JoinUserId, LeaveUserId = wire.LeaveUserId, CloseSessionId = wire.CloseSessionId,
            CloseUserId = wire.CloseUserId, CloseAccessTokenId = wire.CloseAccessTokenId,
        };
    }

    private sealed record Wire(
        string? Method, JsonElement? Payload, Guid? ConversationId, IReadOnlyList<Guid>? UserIds, Guid? JoinUserId, Guid? LeaveUserId,
        Guid? CloseSessionId, Guid? CloseUserId, Guid? CloseAccessTokenId);
}

/// <summary>The server events (client methods) of the realtime hub; docs/protocol.md describes each.</summary>
internal static class RealtimeEvents
{
    public const string EventAppended = "EventAppended";
    public const string Typing = "Typing";
    public const string ReadReceipt = "ReadReceipt";
    public const string PresenceChanged = "PresenceChanged";
    public const string ConversationAdded = "ConversationAdded";
    public const string ConversationRemoved = "ConversationRemoved";
    public const string ConversationSettingsChanged = "ConversationSettingsChanged";
}
