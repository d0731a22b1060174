using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Calls;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Calls;

/// <summary>
/// Call signaling is addressed to devices. A device is the app login (session) a hub connection belongs to, so
/// a reconnect of the same app is the same device and keeps its place in a call. Its id is derived from the
/// session id (<c>s-</c> + 32 hex digits of SHA-256) rather than being the session id itself: peers see device
/// ids, and a session id is the user's own business. A connection without a session (a personal access token)
/// is a device of its own (<c>c-</c> + a random GUID per connection) and cannot resume a call after reconnecting.
/// </summary>
internal static class CallDevices
{
    private const string ItemKey = "conntext.call-device";

    public static string Group(string deviceId) => $"device:{deviceId}";

    /// <summary>The device's group under its user: a peer signal names both, so it can only reach that user's device.</summary>
    public static string UserGroup(Guid userId, string deviceId) => $"user-device:{userId:N}:{deviceId}";

    public static string For(ClaimsPrincipal user) => user.SessionId() is { } sessionId
        ? "s-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"conntext-device:{sessionId:D}")).AsSpan(0, 16))
        : "c-" + Guid.NewGuid().ToString("N");

    public static string Of(HubCallerContext context) =>
        context.Items.TryGetValue(ItemKey, out var device) && device is string id ? id : throw new InvalidOperationException("No call device for this connection.");

    public static void Set(HubCallerContext context, string deviceId) => context.Items[ItemKey] = deviceId;
}

/// <summary>How many connections each device has on this node, so only its last disconnect starts the grace period.</summary>
internal sealed class LocalDeviceConnections
{
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    public void Add(string deviceId) => counts.AddOrUpdate(deviceId, 1, (_, n) => n + 1);

    /// <summary>True when that was the device's last connection here.</summary>
    public bool Remove(string deviceId)
    {
        while (counts.TryGetValue(deviceId, out var n))
        {
            if (n <= 1 ? counts.TryRemove(new KeyValuePair<string, int>(deviceId, n)) : counts.TryUpdate(deviceId, n - 1, n))
            {
                return n <= 1;
            }
        }

        return true;
    }
}

/// <summary>
/// Gives each hub connection its call device (<see cref="CallDevices"/>) and its <c>device:{id}</c> group, and
/// tracks disconnects in the database (any node's sweeper drops a device whose grace period passed).
/// A hub filter, so the hub's own connect/disconnect code stays the realtime feature's.
/// </summary>
internal sealed class CallsHubFilter(LocalDeviceConnections local, TimeProvider time) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var device = CallDevices.For(context.Context.User!);
        CallDevices.Set(context.Context, device);
        local.Add(device);
        await context.Hub.Groups.AddToGroupAsync(context.Context.ConnectionId, CallDevices.Group(device), context.Context.ConnectionAborted);
        await context.Hub.Groups.AddToGroupAsync(context.Context.ConnectionId, CallDevices.UserGroup(context.Context.User!.UserId(), device),
            context.Context.ConnectionAborted);
        // Back within the grace period: the device keeps its place in its call.
        var db = context.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        await db.CallParticipants.Where(p => p.DeviceId == device && p.State == CallParticipantStates.Joined && p.DisconnectedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.DisconnectedAt, (DateTimeOffset?)null), context.Context.ConnectionAborted);
        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        await next(context, exception);
        var device = CallDevices.Of(context.Context);
        if (local.Remove(device))
        {
            var db = context.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            var now = time.GetUtcNow();
            await db.CallParticipants.Where(p => p.DeviceId == device && p.State == CallParticipantStates.Joined && p.DisconnectedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.DisconnectedAt, now), CancellationToken.None);
        }
    }
}
