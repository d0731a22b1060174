using System.Threading.RateLimiting;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Realtime;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Calls;

/// <summary>Per-device token buckets for signals (per node: a device's connection lives on one node).</summary>
internal sealed class SignalRateLimiter(IOptions<CallsOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(device =>
        RateLimitPartition.GetTokenBucketLimiter(device, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.SignalBurst,
            TokensPerPeriod = options.Value.SignalsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            AutoReplenishment = true,
            QueueLimit = 0,
        }), StringComparer.Ordinal);

    /// <summary>
    /// The checks every signal passes, in this order: a payload within the size limit, a valid target
    /// (<paramref name="target"/> returns the refusal, or null), and the device's rate.
    /// </summary>
    public void Check(CallCaller caller, [System.Diagnostics.CodeAnalysis.NotNull] string? payload, CallsOptions options, Func<CallRefusedException?> target)
    {
        if (string.IsNullOrEmpty(payload))
        {
            throw CallRefusedException.Validation("payload", "A signal carries a payload.");
        }

        if (payload.Length > options.MaxSignalChars)
        {
            throw new CallRefusedException(ProblemTypes.PayloadTooLarge,
                $"payload: A signal has at most {options.MaxSignalChars} characters; this one has {payload.Length}.");
        }

        if (target() is { } refused)
        {
            throw refused;
        }

        using var lease = limiter.AttemptAcquire(caller.DeviceId);
        if (!lease.IsAcquired)
        {
            throw new CallRefusedException(ProblemTypes.RateLimited,
                $"This device sends more than {options.SignalsPerSecond} signals per second (bursts up to {options.SignalBurst}); slow down.");
        }
    }

    public void Dispose() => limiter.Dispose();
}

/// <summary>
/// Relays a signaling message (offer, answer, ICE candidate, renegotiation) from one joined device of a call
/// to another. The server does not read the payload; it checks the size, the sender's rate, and that both
/// devices are in the call right now (from the database, so it holds across nodes).
/// </summary>
internal sealed class CallSignals(ConnTextDbContext db, IOptions<CallsOptions> options, SignalRateLimiter limiter, IHubContext<RealtimeHub> hub)
{
    public async Task RelayAsync(CallCaller caller, Guid callId, string? targetDeviceId, string? payload, CancellationToken cancellationToken)
    {
        limiter.Check(caller, payload, options.Value, () =>
            string.IsNullOrEmpty(targetDeviceId) || targetDeviceId.Length > 64 || targetDeviceId == caller.DeviceId
                ? CallRefusedException.Validation("targetDeviceId", "The device id of another participant of the call.")
                : null);

        var devices = await db.CallParticipants.AsNoTracking()
            .Where(p => p.CallId == callId && p.State == CallParticipantStates.Joined && (p.DeviceId == caller.DeviceId || p.DeviceId == targetDeviceId))
            .Join(db.Calls.Where(c => c.State != CallStates.Ended), p => p.CallId, c => c.Id, (p, _) => p.DeviceId)
            .ToListAsync(cancellationToken);
        if (!devices.Contains(caller.DeviceId))
        {
            throw new CallRefusedException(ProblemTypes.NotFound, "This device is not in a call with this id.");
        }

        if (!devices.Contains(targetDeviceId))
        {
            throw CallRefusedException.Conflict("The target device is not in this call (it left, or answered elsewhere).");
        }

        await hub.Clients.Group(CallDevices.Group(targetDeviceId!)) // checked non-empty above
            .SendAsync(CallEvents.Signal, new SignalEvent(callId, caller.UserId, caller.DeviceId, payload), cancellationToken);
    }
}

/// <summary>
/// Relays a signaling message between devices outside calls (data channels for peer-to-peer file transfer): only
/// between users who share a conversation, to one device of the target user or (to find who is online) to all of them.
/// The same size and rate limits as call signals; the payload stays opaque.
/// </summary>
internal sealed class PeerSignals(ConnTextDbContext db, IOptions<CallsOptions> options, SignalRateLimiter limiter, IHubContext<RealtimeHub> hub)
{
    public async Task RelayAsync(CallCaller caller, Guid toUserId, string? toDeviceId, string? payload, CancellationToken cancellationToken)
    {
        limiter.Check(caller, payload, options.Value, () =>
            toDeviceId is not null && (toDeviceId.Length is 0 or > 64 || toDeviceId == caller.DeviceId)
                ? CallRefusedException.Validation("toDeviceId", "Another device's id, or null for every device of the user.")
                : null);

        var shared = toUserId == caller.UserId || await db.ConversationMembers.AsNoTracking()
            .Where(m => m.UserId == caller.UserId)
            .Join(db.ConversationMembers.Where(o => o.UserId == toUserId), m => m.ConversationId, o => o.ConversationId, (m, _) => m)
            .AnyAsync(cancellationToken);
        if (!shared)
        {
            // The same answer as for a user that does not exist: who exists is not told to strangers.
            throw new CallRefusedException(ProblemTypes.NotFound, "You share no conversation with a user with this id.");
        }

        var message = new PeerSignalEvent(caller.UserId, caller.DeviceId, toDeviceId, payload);
        var clients = toDeviceId is null ? hub.Clients.Group(RealtimeHub.UserGroup(toUserId)) : hub.Clients.Group(CallDevices.UserGroup(toUserId, toDeviceId));
        await clients.SendAsync(CallEvents.PeerSignal, message, cancellationToken);
    }
}
