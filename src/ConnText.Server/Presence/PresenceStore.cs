using System.Collections.Concurrent;
using ConnText.Contracts.Realtime;
using ConnText.Server.Realtime;
using StackExchange.Redis;

namespace ConnText.Server.Presence;

/// <summary>The presence of each hub connection, shared by every node; a user's state is the best of their connections'.</summary>
internal interface IPresenceStore
{
    Task SetAsync(Guid userId, string connectionId, string state);

    Task RemoveAsync(Guid userId, string connectionId);

    /// <summary><see cref="PresenceStates.Online"/> if any connection is online, else away if any is away, else offline.</summary>
    Task<string> GetStateAsync(Guid userId);
}

internal static class PresenceAggregate
{
    public static string Of(IEnumerable<string> states)
    {
        var result = PresenceStates.Offline;
        foreach (var state in states)
        {
            if (state == PresenceStates.Online)
            {
                return state;
            }

            result = PresenceStates.Away;
        }

        return result;
    }
}

/// <summary>One node: presence lives in this process.</summary>
internal sealed class MemoryPresenceStore : IPresenceStore
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, string>> byUser = new();

    public Task SetAsync(Guid userId, string connectionId, string state)
    {
        byUser.GetOrAdd(userId, _ => new(StringComparer.Ordinal))[connectionId] = state;
        return Task.CompletedTask;
    }

    public Task RemoveAsync(Guid userId, string connectionId)
    {
        if (byUser.TryGetValue(userId, out var connections))
        {
            connections.TryRemove(connectionId, out _);
        }

        return Task.CompletedTask;
    }

    public Task<string> GetStateAsync(Guid userId) =>
        Task.FromResult(byUser.TryGetValue(userId, out var connections) ? PresenceAggregate.Of(connections.Values) : PresenceStates.Offline);
}

/// <summary>
/// Several nodes: a Redis hash per user, one field per connection (<c>{node}/{connection}</c>). Each node keeps a
/// short-lived liveness key alive (<see cref="NodeHeartbeat"/>); the fields of a node whose key expired (it crashed)
/// are ignored and removed when read, so a dead node's users do not stay online.
/// </summary>
internal sealed class RedisPresenceStore(RedisConnection redis, NodeIdentity node) : IPresenceStore
{
    public static RedisKey UserKey(Guid userId) => $"conntext:presence:{userId}";

    public static RedisKey NodeKey(string nodeId) => $"conntext:node:{nodeId}";

    public async Task SetAsync(Guid userId, string connectionId, string state)
    {
        var db = (await redis.GetAsync()).GetDatabase();
        await db.HashSetAsync(UserKey(userId), $"{node.Id}/{connectionId}", state);
    }

    public async Task RemoveAsync(Guid userId, string connectionId)
    {
        var db = (await redis.GetAsync()).GetDatabase();
        await db.HashDeleteAsync(UserKey(userId), $"{node.Id}/{connectionId}");
    }

    public async Task<string> GetStateAsync(Guid userId)
    {
        var db = (await redis.GetAsync()).GetDatabase();
        var entries = await db.HashGetAllAsync(UserKey(userId));
        var alive = new Dictionary<string, bool>(StringComparer.Ordinal);
        var states = new List<string>();
        var dead = new List<RedisValue>();
        foreach (var entry in entries)
        {
            var field = entry.Name.ToString();
            var nodeId = field[..Math.Max(0, field.IndexOf('/', StringComparison.Ordinal))];
            if (!alive.TryGetValue(nodeId, out var isAlive))
            {
                isAlive = nodeId == node.Id || await db.KeyExistsAsync(NodeKey(nodeId));
                alive[nodeId] = isAlive;
            }

            if (isAlive)
            {
                states.Add(entry.Value.ToString());
            }
            else
            {
                dead.Add(entry.Name);
            }
        }

        if (dead.Count > 0)
        {
            await db.HashDeleteAsync(UserKey(userId), [.. dead]);
        }

        return PresenceAggregate.Of(states);
    }
}

/// <summary>This server process's id among the nodes (new at every start).</summary>
internal sealed class NodeIdentity
{
    public string Id { get; } = Guid.NewGuid().ToString("N");
}

/// <summary>Keeps this node's liveness key in Redis; removes it on a clean stop.</summary>
internal sealed class NodeHeartbeat(RedisConnection redis, NodeIdentity node) : BackgroundService
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            var db = (await redis.GetAsync()).GetDatabase();
            await db.KeyDeleteAsync(RedisPresenceStore.NodeKey(node.Id));
        }
        catch (RedisException)
        {
            // Expires on its own.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var db = (await redis.GetAsync()).GetDatabase();
                await db.StringSetAsync(RedisPresenceStore.NodeKey(node.Id), "1", Lifetime);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis away: presence reads fail too; the next beat tries again.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
