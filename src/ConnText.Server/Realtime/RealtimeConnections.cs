using System.Collections.Concurrent;

namespace ConnText.Server.Realtime;

/// <summary>The hub connections of each user on this node, so a membership change can move them into or out of a conversation's group.</summary>
internal sealed class RealtimeConnections
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, byte>> byUser = new();

    public void Add(Guid userId, string connectionId) =>
        byUser.GetOrAdd(userId, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[connectionId] = 0;

    public void Remove(Guid userId, string connectionId)
    {
        if (byUser.TryGetValue(userId, out var connections))
        {
            connections.TryRemove(connectionId, out _);
        }
    }

    public IReadOnlyList<string> Of(Guid userId) =>
        byUser.TryGetValue(userId, out var connections) ? [.. connections.Keys] : [];
}
