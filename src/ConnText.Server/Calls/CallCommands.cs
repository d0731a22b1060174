using ConnText.Contracts.Calls;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Calls;

/// <summary>Who runs a call command: the user, the device they use, and the hub connection (null for the sweeper).</summary>
internal sealed record CallCaller(Guid UserId, string DeviceId, string? ConnectionId);

/// <summary>
/// The call lifecycle. Each command is one database transaction whose transitions are conditional UPDATEs on
/// the state it read, so two nodes racing on one call (two devices accepting, both users calling each other,
/// the ring timeout against an answer) end with exactly one outcome; the loser re-reads and gets the winner's
/// result or a refusal. Events are pushed only after the commit.
/// </summary>
internal sealed partial class CallCommands(
    ConnTextDbContext db, IOptions<CallsOptions> options, TimeProvider time, CallNotifier calls,
    IConversationEventNotifier conversations, ILogger<CallCommands> logger)
{
    private readonly List<Func<Task>> afterCommit = [];

    public Task<CallResponse> StartAsync(CallCaller caller, Guid conversationId, string? media, CancellationToken cancellationToken)
    {
        if (media is not (CallMedia.Audio or CallMedia.Video))
        {
            throw CallRefusedException.Validation("media", "A call is 'audio' or 'video'.");
        }

        return RunAsync(async ct =>
        {
            var conversation = await db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.Id == conversationId, ct);
            var members = await db.ConversationMembers.AsNoTracking().Where(m => m.ConversationId == conversationId)
                .Select(m => m.UserId).ToListAsync(ct);
            if (conversation is null || !members.Contains(caller.UserId))
            {
                throw new CallRefusedException(ProblemTypes.NotFound, "You are not a member of a conversation with this id.");
            }

            if (members.Count < 2)
            {
                throw CallRefusedException.Conflict("Nobody else is in this conversation.");
            }

            if (await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.ConversationId == conversationId && c.State != CallStates.Ended, ct) is { } live)
            {
                // One call per conversation: starting while one rings or runs (glare: both called at once) joins it.
                return await JoinCoreAsync(live, caller, ct);
            }

            await EnsureNotBusyAsync(caller.UserId, null, ct);
            var now = time.GetUtcNow();
            var call = new Call
            {
                Id = Guid.CreateVersion7(now),
                ConversationId = conversationId,
                IsGroup = conversation.Kind == ConversationKinds.Group,
                Media = media,
                InitiatorId = caller.UserId,
                State = CallStates.Ringing,
                CreatedAt = now,
                RingDeadline = now + options.Value.RingTimeout,
            };
            db.Calls.Add(call);
            foreach (var member in members)
            {
                db.CallParticipants.Add(member == caller.UserId
                    ? new CallParticipant { CallId = call.Id, UserId = member, State = CallParticipantStates.Joined, DeviceId = caller.DeviceId, JoinedAt = now }
                    : new CallParticipant { CallId = call.Id, UserId = member, State = CallParticipantStates.Invited });
            }

            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            LogStarted(call.Id, conversationId, caller.UserId);

            var others = members.Where(m => m != caller.UserId).ToList();
            if (!call.IsGroup && await db.CallParticipants.AnyAsync(p => p.UserId == others[0] && p.State == CallParticipantStates.Joined, ct))
            {
                await EndCoreAsync(call.Id, CallEndReasons.Busy, caller.UserId, ct);
                return await CallViews.ToResponseAsync(db, call.Id, ct);
            }

            var view = await CallViews.ToResponseAsync(db, call.Id, ct);
            Push(others, CallEvents.CallRinging, new CallEvent(view, caller.UserId, caller.DeviceId));
            return view;
        }, cancellationToken);
    }

    /// <summary>Answers a ringing call (or joins an active one) the caller was rung for.</summary>
    public Task<CallResponse> AcceptAsync(CallCaller caller, Guid callId, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            var (call, _) = await LoadAsync(callId, caller.UserId, requireParticipant: true, ct);
            return await JoinCoreAsync(call, caller, ct);
        }, cancellationToken);

    /// <summary>Joins a call of a conversation the caller is a member of, rung or not (group calls: late joiners).</summary>
    public Task<CallResponse> JoinAsync(CallCaller caller, Guid callId, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            var (call, _) = await LoadAsync(callId, caller.UserId, requireParticipant: false, ct);
            return await JoinCoreAsync(call, caller, ct);
        }, cancellationToken);

    public Task<CallResponse> DeclineAsync(CallCaller caller, Guid callId, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            var (call, mine) = await LoadAsync(callId, caller.UserId, requireParticipant: true, ct);
            return await DeclineCoreAsync(call, mine!, caller, ct);
        }, cancellationToken);

    public Task<CallResponse> LeaveAsync(CallCaller caller, Guid callId, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            var (call, mine) = await LoadAsync(callId, caller.UserId, requireParticipant: true, ct);
            return await LeaveCoreAsync(call, mine!, caller, ct);
        }, cancellationToken);

    /// <summary>"Stop": declines a call ringing for the caller, leaves one they are in (the caller cancelling: ends it).</summary>
    public Task<CallResponse> HangUpAsync(CallCaller caller, Guid callId, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            var (call, mine) = await LoadAsync(callId, caller.UserId, requireParticipant: true, ct);
            return mine!.State == CallParticipantStates.Invited
                ? await DeclineCoreAsync(call, mine, caller, ct)
                : await LeaveCoreAsync(call, mine, caller, ct);
        }, cancellationToken);

    /// <summary>Ends calls past their ring deadline (missed) and drops devices past their disconnect grace. Safe on every node at once.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var done = 0;
        var expired = await db.Calls.AsNoTracking()
            .Where(c => c.State == CallStates.Ringing && c.RingDeadline <= now)
            .OrderBy(c => c.Id).Select(c => c.Id).Take(100).ToListAsync(cancellationToken);
        foreach (var callId in expired)
        {
            await RunAsync(async ct =>
            {
                var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, ct);
                if (call.State == CallStates.Ringing && call.RingDeadline <= now && await EndCoreAsync(callId, CallEndReasons.Missed, call.InitiatorId, ct))
                {
                    done++;
                }

                return 0;
            }, cancellationToken);
        }

        var cutoff = now - options.Value.DisconnectGrace;
        var dropped = await db.CallParticipants.AsNoTracking()
            .Where(p => p.State == CallParticipantStates.Joined && p.DisconnectedAt != null && p.DisconnectedAt <= cutoff)
            .OrderBy(p => p.CallId).ThenBy(p => p.DeviceId).Select(p => new { p.CallId, p.UserId, p.DeviceId }).Take(100).ToListAsync(cancellationToken);
        foreach (var drop in dropped)
        {
            await RunAsync(async ct =>
            {
                var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == drop.CallId, ct);
                var left = await db.CallParticipants
                    .Where(p => p.CallId == drop.CallId && p.UserId == drop.UserId && p.State == CallParticipantStates.Joined
                                && p.DisconnectedAt != null && p.DisconnectedAt <= cutoff)
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Left).SetProperty(p => p.LeftAt, now), ct);
                if (left == 1)
                {
                    LogDropped(drop.CallId, drop.UserId);
                    await AfterLeftAsync(call, new CallCaller(drop.UserId, drop.DeviceId ?? "", null), dropped: true, ct);
                    done++;
                }

                return 0;
            }, cancellationToken);
        }

        return done;
    }

    private async Task<CallResponse> JoinCoreAsync(Call call, CallCaller caller, CancellationToken ct)
    {
        if (call.State == CallStates.Ended)
        {
            throw CallRefusedException.Conflict("The call has ended.");
        }

        var mine = await db.CallParticipants.AsNoTracking().FirstOrDefaultAsync(p => p.CallId == call.Id && p.UserId == caller.UserId, ct);
        if (mine?.State == CallParticipantStates.Joined)
        {
            return mine.DeviceId == caller.DeviceId
                ? await CallViews.ToResponseAsync(db, call.Id, ct) // a retry, or glare seen from the side that already joined
                : throw CallRefusedException.Conflict("You answered this call on another device.");
        }

        await EnsureNotBusyAsync(caller.UserId, call.Id, ct);
        if (await db.CallParticipants.CountAsync(p => p.CallId == call.Id && p.State == CallParticipantStates.Joined, ct) >= options.Value.MeshLimit)
        {
            throw new CallRefusedException(ProblemTypes.CallFull, $"The call already has the maximum of {options.Value.MeshLimit} participants.");
        }

        var now = time.GetUtcNow();
        if (mine is null)
        {
            db.CallParticipants.Add(new CallParticipant
            {
                CallId = call.Id, UserId = caller.UserId, State = CallParticipantStates.Joined, DeviceId = caller.DeviceId, JoinedAt = now,
            });
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        else
        {
            // First accept wins: a second device of the same user (here or on another node) finds the state changed.
            var updated = await db.CallParticipants
                .Where(p => p.CallId == call.Id && p.UserId == caller.UserId && p.State == mine.State)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Joined)
                    .SetProperty(p => p.DeviceId, caller.DeviceId).SetProperty(p => p.JoinedAt, now)
                    .SetProperty(p => p.LeftAt, (DateTimeOffset?)null).SetProperty(p => p.DisconnectedAt, (DateTimeOffset?)null), ct);
            if (updated == 0)
            {
                throw CallRefusedException.Conflict("You answered this call on another device.");
            }
        }

        var answered = call.State == CallStates.Ringing && caller.UserId != call.InitiatorId
                       && await db.Calls.Where(c => c.Id == call.Id && c.State == CallStates.Ringing)
                           .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CallStates.Active).SetProperty(c => c.AnsweredAt, now), ct) == 1;
        var still = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id, ct);
        if (still.State == CallStates.Ended)
        {
            throw CallRefusedException.Conflict("The call has ended.");
        }

        var view = await CallViews.ToResponseAsync(db, call.Id, ct);
        var payload = new CallEvent(view, caller.UserId, caller.DeviceId);
        Push(view.Participants.Select(p => p.UserId).Where(u => u != caller.UserId),
            answered ? CallEvents.CallAccepted : CallEvents.CallParticipantJoined, payload);
        PushToOwnOtherConnections(caller, CallEvents.CallAnsweredElsewhere, payload);
        return view;
    }

    private async Task<CallResponse> DeclineCoreAsync(Call call, CallParticipant mine, CallCaller caller, CancellationToken ct)
    {
        if (mine.State == CallParticipantStates.Declined)
        {
            return await CallViews.ToResponseAsync(db, call.Id, ct);
        }

        if (call.State == CallStates.Ended)
        {
            throw CallRefusedException.Conflict("The call has ended.");
        }

        if (mine.State != CallParticipantStates.Invited)
        {
            throw CallRefusedException.Conflict("The call is not ringing for you; use LeaveCall or HangUp to leave it.");
        }

        var updated = await db.CallParticipants
            .Where(p => p.CallId == call.Id && p.UserId == caller.UserId && p.State == CallParticipantStates.Invited)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Declined), ct);
        if (updated == 0)
        {
            throw CallRefusedException.Conflict("You answered this call on another device.");
        }

        var ringingFor = await db.CallParticipants.CountAsync(p => p.CallId == call.Id && p.State == CallParticipantStates.Invited, ct);
        if (!call.IsGroup || (call.State == CallStates.Ringing && ringingFor == 0))
        {
            await EndCoreAsync(call.Id, CallEndReasons.Declined, caller.UserId, ct);
            return await CallViews.ToResponseAsync(db, call.Id, ct);
        }

        var view = await CallViews.ToResponseAsync(db, call.Id, ct);
        Push(view.Participants.Select(p => p.UserId), CallEvents.CallDeclined, new CallEvent(view, caller.UserId, caller.DeviceId));
        return view;
    }

    private async Task<CallResponse> LeaveCoreAsync(Call call, CallParticipant mine, CallCaller caller, CancellationToken ct)
    {
        if (call.State == CallStates.Ended)
        {
            throw CallRefusedException.Conflict("The call has ended.");
        }

        var left = mine.State == CallParticipantStates.Joined && await db.CallParticipants
            .Where(p => p.CallId == call.Id && p.UserId == caller.UserId && p.State == CallParticipantStates.Joined)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Left).SetProperty(p => p.LeftAt, time.GetUtcNow()), ct) == 1;
        if (!left)
        {
            throw CallRefusedException.Conflict("You are not in this call.");
        }

        await AfterLeftAsync(call, caller, dropped: false, ct);
        return await CallViews.ToResponseAsync(db, call.Id, ct);
    }

    /// <summary>After a participant left or was dropped: ends the call when it is over, else tells the others.</summary>
    private async Task AfterLeftAsync(Call call, CallCaller leaver, bool dropped, CancellationToken ct)
    {
        var current = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id, ct);
        var joined = await db.CallParticipants.CountAsync(p => p.CallId == call.Id && p.State == CallParticipantStates.Joined, ct);
        string? reason = current.State switch
        {
            CallStates.Ringing when leaver.UserId == current.InitiatorId || joined == 0 => dropped ? CallEndReasons.Failed : CallEndReasons.Cancelled,
            // A direct call is over when either side leaves; a group call when its last participant leaves.
            CallStates.Active when !current.IsGroup || joined == 0 => dropped ? CallEndReasons.Failed : CallEndReasons.Completed,
            _ => null,
        };
        if (reason is not null)
        {
            await EndCoreAsync(call.Id, reason, leaver.UserId, ct);
            return;
        }

        var view = await CallViews.ToResponseAsync(db, call.Id, ct);
        Push(view.Participants.Select(p => p.UserId), CallEvents.CallParticipantLeft, new CallEvent(view, leaver.UserId, leaver.DeviceId));
    }

    /// <summary>
    /// Ends the call unless something else ended it first, and leaves its <c>call.ended</c> system message as a
    /// sequenced event of the conversation in the same transaction. False when it was already ended.
    /// </summary>
    private async Task<bool> EndCoreAsync(Guid callId, string reason, Guid actorId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var ended = await db.Calls.Where(c => c.Id == callId && c.State != CallStates.Ended)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CallStates.Ended).SetProperty(c => c.EndReason, reason).SetProperty(c => c.EndedAt, now), ct);
        if (ended == 0)
        {
            return false;
        }

        await db.CallParticipants.Where(p => p.CallId == callId && p.State == CallParticipantStates.Joined)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Left).SetProperty(p => p.LeftAt, now), ct);
        await db.CallParticipants.Where(p => p.CallId == callId && p.State == CallParticipantStates.Invited)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, CallParticipantStates.Missed), ct);

        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, ct);
        var peerToPeer = await db.Conversations.AnyAsync(c => c.Id == call.ConversationId && c.Kind == ConversationKinds.PeerToPeer, ct);
        // A peer-to-peer conversation's timeline lives on the devices only: no server message for its calls either.
        if (!peerToPeer && await Sequencer.NextAsync(db, call.ConversationId, now, ct) is { } sequence)
        {
            var message = new Message
            {
                Id = Guid.CreateVersion7(now),
                ConversationId = call.ConversationId,
                Sequence = sequence,
                Kind = MessageKinds.System,
                SenderId = actorId,
                SystemEvent = ConversationEventKinds.CallEnded,
                CallId = callId,
                CreatedAt = now,
            };
            db.Messages.Add(message);
            db.ConversationEvents.Add(new ConversationEvent
            {
                ConversationId = call.ConversationId,
                Sequence = sequence,
                Kind = ConversationEventKinds.CallEnded,
                ActorId = actorId,
                MessageId = message.Id,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            var appended = db.SavedEvent();
            afterCommit.Add(() => conversations.NotifyAsync(db, appended, actorId, CancellationToken.None));
            db.ChangeTracker.Clear();
        }

        LogEnded(callId, reason);
        var view = await CallViews.ToResponseAsync(db, callId, ct);
        Push(view.Participants.Select(p => p.UserId), CallEvents.CallEnded, new CallEvent(view, actorId, null));
        return true;
    }

    private async Task<(Call Call, CallParticipant? Mine)> LoadAsync(Guid callId, Guid userId, bool requireParticipant, CancellationToken ct)
    {
        var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId, ct);
        var mine = call is null ? null : await db.CallParticipants.AsNoTracking().FirstOrDefaultAsync(p => p.CallId == callId && p.UserId == userId, ct);
        // Ids are not confirmed to strangers: a call of someone else's conversation is "not found".
        var allowed = call is not null && (mine is not null
            || (!requireParticipant && await db.ConversationMembers.AnyAsync(m => m.ConversationId == call.ConversationId && m.UserId == userId, ct)));
        return allowed ? (call!, mine) : throw CallRefusedException.NoCall();
    }

    private async Task EnsureNotBusyAsync(Guid userId, Guid? exceptCallId, CancellationToken ct)
    {
        if (await db.CallParticipants.AnyAsync(p => p.UserId == userId && p.State == CallParticipantStates.Joined && p.CallId != exceptCallId, ct))
        {
            throw new CallRefusedException(ProblemTypes.CallBusy, "You are already in another call; leave it first.");
        }
    }

    private void Push(IEnumerable<Guid> users, string method, CallEvent payload)
    {
        var list = users.Distinct().ToList();
        afterCommit.Add(() => calls.ToUsersAsync(list, method, payload));
    }

    private void PushToOwnOtherConnections(CallCaller caller, string method, CallEvent payload) =>
        afterCommit.Add(() => calls.ToUserExceptAsync(caller.UserId, caller.ConnectionId, method, payload));

    /// <summary>
    /// Runs one command in a transaction, then (only after the commit) sends what it queued. A unique index
    /// violation means a racing transaction committed first: run again, and the re-read state decides.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> command, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            afterCommit.Clear();
            T result;
            try
            {
                result = await Sequencer.InTransactionAsync(db, command, cancellationToken);
            }
            catch (Exception ex) when (attempt < 4 && CallViews.IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
                continue;
            }

            foreach (var send in afterCommit)
            {
                await send();
            }

            afterCommit.Clear();
            return result;
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Call {CallId} started in conversation {ConversationId} by {UserId}")]
    private partial void LogStarted(Guid callId, Guid conversationId, Guid userId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Call {CallId} ended: {Reason}")]
    private partial void LogEnded(Guid callId, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Call {CallId}: user {UserId} dropped after the disconnect grace period")]
    private partial void LogDropped(Guid callId, Guid userId);
}
