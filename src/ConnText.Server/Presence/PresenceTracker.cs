using System.Collections.Concurrent;
using ConnText.Contracts.Realtime;
using ConnText.Server.Data;
using ConnText.Server.Realtime;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Presence;

/// <summary>
/// Turns hub connections coming, going and saying "away" into a user's presence, and tells the user's devices and
/// everyone who shares a conversation with them when it changes. A user who hides their presence is told to no one.
/// </summary>
internal sealed partial class PresenceTracker(
    IPresenceStore store, IRealtimeBus bus, IServiceScopeFactory scopes, TimeProvider time, ILogger<PresenceTracker> logger)
{
    private readonly ConcurrentDictionary<Guid, string> lastPublished = new();

    // Changes of one user are applied one at a time, so "online" and "offline" are never told in the wrong order.
    private readonly SemaphoreSlim[] stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public Task ConnectedAsync(Guid userId, string connectionId) => ChangeAsync(userId, () => store.SetAsync(userId, connectionId, PresenceStates.Online));

    public Task DisconnectedAsync(Guid userId, string connectionId) => ChangeAsync(userId, () => store.RemoveAsync(userId, connectionId));

    public Task SetAsync(Guid userId, string connectionId, string state) => ChangeAsync(userId, () => store.SetAsync(userId, connectionId, state));

    /// <summary>Tells again, e.g. after the user hid or showed their presence.</summary>
    public Task RefreshAsync(Guid userId) => ChangeAsync(userId, () => Task.CompletedTask, force: true);

    private async Task ChangeAsync(Guid userId, Func<Task> change, bool force = false)
    {
        var stripe = stripes[(userId.GetHashCode() & 0x7fffffff) % stripes.Length];
        await stripe.WaitAsync();
        try
        {
            await change();
            var state = await store.GetStateAsync(userId);
            if (!force && lastPublished.TryGetValue(userId, out var previous) && previous == state)
            {
                return;
            }

            lastPublished[userId] = state;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            var now = time.GetUtcNow();
            if (state == PresenceStates.Offline)
            {
                await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastSeenAt, now));
            }

            var hidden = await db.Users.Where(u => u.Id == userId).Select(u => u.HidePresence).FirstOrDefaultAsync();
            var recipients = await db.ConversationMembers
                .Where(m => db.ConversationMembers.Any(mine => mine.UserId == userId && mine.ConversationId == m.ConversationId))
                .Select(m => m.UserId).Distinct().ToListAsync();
            if (hidden)
            {
                // The user's own devices still learn the truth; everyone else sees offline.
                await bus.PublishAsync(Event(userId, PresenceStates.Offline, null, recipients.Where(r => r != userId).ToList()));
                await bus.PublishAsync(Event(userId, state, null, [userId]));
                return;
            }

            if (!recipients.Contains(userId))
            {
                recipients.Add(userId);
            }

            await bus.PublishAsync(Event(userId, state, state == PresenceStates.Offline ? now : null, recipients));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Presence is best effort: a failure here must never fail a connect or disconnect.
            LogPresenceFailed(logger, ex, userId);
        }
        finally
        {
            stripe.Release();
        }
    }

    private static RealtimeEnvelope Event(Guid userId, string state, DateTimeOffset? lastSeen, IReadOnlyList<Guid> recipients) => new()
    {
        Method = RealtimeEvents.PresenceChanged,
        Payload = new PresenceChangedEvent(userId, state, lastSeen),
        UserIds = recipients,
    };

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "Could not update the presence of user {UserId}")]
    private static partial void LogPresenceFailed(ILogger logger, Exception exception, Guid userId);
}
