using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Realtime;

/// <summary>
/// The hub connections of this node, by user and by conversation, and the one place where an envelope is turned
/// into pushes to them. Each event is serialized once per hub protocol (<see cref="SerializedHubMessage"/>)
/// however many connections receive it.
/// </summary>
internal sealed partial class RealtimeConnections(IOptions<RealtimeOptions> options, ILogger<RealtimeConnection> connectionLogger)
{
    private readonly ConcurrentDictionary<string, RealtimeConnection> byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, RealtimeConnection>> byUser = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, RealtimeConnection>> byConversation = new();

    // Index changes (connect, disconnect, join, leave) take this lock, so an emptied set is never removed while
    // another change adds to it; pushes only read the concurrent dictionaries and never wait for it.
    private readonly Lock indexLock = new();

    public int Count => byId.Count;

    public RealtimeConnection Register(HubConnectionContext context)
    {
        var connection = new RealtimeConnection(context, options.Value.SendQueueLimit, connectionLogger);
        lock (indexLock)
        {
            byId[connection.ConnectionId] = connection;
            Add(byUser, connection.UserId, connection);
        }

        return connection;
    }

    public void Unregister(string connectionId)
    {
        lock (indexLock)
        {
            if (!byId.TryRemove(connectionId, out var connection))
            {
                return;
            }

            connection.Completed();
            Remove(byUser, connection.UserId, connectionId);
            foreach (var conversationId in connection.Followed())
            {
                Remove(byConversation, conversationId, connectionId);
            }
        }
    }

    public RealtimeConnection? Find(string connectionId) => byId.GetValueOrDefault(connectionId);

    public IReadOnlyCollection<RealtimeConnection> All => [.. byId.Values];

    public IReadOnlyList<RealtimeConnection> OfUser(Guid userId) =>
        byUser.TryGetValue(userId, out var connections) ? [.. connections.Values] : [];

    /// <summary>The memberships read when the connection started.</summary>
    public void JoinLoaded(RealtimeConnection connection, IReadOnlyList<Guid> conversationIds)
    {
        lock (indexLock)
        {
            connection.JoinLoaded(conversationIds);
            if (!byId.ContainsKey(connection.ConnectionId))
            {
                return; // already gone
            }

            foreach (var conversationId in conversationIds)
            {
                if (connection.Follows(conversationId))
                {
                    Add(byConversation, conversationId, connection);
                }
            }
        }
    }

    /// <summary>Does on this node what <paramref name="envelope"/> says. Never blocks: pushes only go into connection queues.</summary>
    public void Dispatch(RealtimeEnvelope envelope)
    {
        if (envelope.ConversationId is { } conversationId && envelope.JoinUserId is { } joining)
        {
            lock (indexLock)
            {
                foreach (var connection in OfUser(joining))
                {
                    connection.Join(conversationId);
                    Add(byConversation, conversationId, connection);
                }
            }
        }

        if (envelope.Method is { } method)
        {
            // Serialized lazily, once per protocol, on the first connection's writer task that needs it.
            var message = new SerializedHubMessage(new InvocationMessage(method, [envelope.Payload]));
            // Only an envelope for users as well needs to know who already has it (most go to a conversation only).
            var sent = envelope.UserIds is { Count: > 0 } ? new HashSet<string>(StringComparer.Ordinal) : null;
            if (envelope.ConversationId is { } target && byConversation.TryGetValue(target, out var followers))
            {
                // Enumerating the dictionary itself takes no lock and copies nothing (its Values property does both).
                foreach (var (connectionId, connection) in followers)
                {
                    sent?.Add(connectionId);
                    connection.Enqueue(message);
                }
            }

            foreach (var userId in envelope.UserIds ?? [])
            {
                foreach (var connection in OfUser(userId))
                {
                    if (sent!.Add(connection.ConnectionId))
                    {
                        connection.Enqueue(message);
                    }
                }
            }
        }

        if (envelope.ConversationId is { } left && envelope.LeaveUserId is { } leaving)
        {
            lock (indexLock)
            {
                foreach (var connection in OfUser(leaving))
                {
                    connection.Leave(left);
                    Remove(byConversation, left, connection.ConnectionId);
                }
            }
        }

        if (envelope.CloseSessionId is not null || envelope.CloseUserId is not null || envelope.CloseAccessTokenId is not null)
        {
            foreach (var connection in byId.Values)
            {
                if ((envelope.CloseSessionId is { } s && connection.SessionId == s)
                    || (envelope.CloseUserId is { } u && connection.UserId == u)
                    || (envelope.CloseAccessTokenId is { } t && connection.AccessTokenId == t))
                {
                    LogClosedForCredential(connectionLogger, connection.ConnectionId);
                    connection.Close();
                }
            }
        }
    }

    private static void Add(ConcurrentDictionary<Guid, ConcurrentDictionary<string, RealtimeConnection>> index, Guid key, RealtimeConnection connection) =>
        index.GetOrAdd(key, _ => new(StringComparer.Ordinal))[connection.ConnectionId] = connection;

    private static void Remove(ConcurrentDictionary<Guid, ConcurrentDictionary<string, RealtimeConnection>> index, Guid key, string connectionId)
    {
        if (index.TryGetValue(key, out var set) && set.TryRemove(connectionId, out _) && set.IsEmpty)
        {
            index.TryRemove(key, out _);
        }
    }

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Hub connection {ConnectionId} closed: its session, token or account ended")]
    private static partial void LogClosedForCredential(ILogger logger, string connectionId);
}
