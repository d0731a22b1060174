using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Realtime;
using ConnText.Server.Auth;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using ConnText.Server.Presence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Realtime;

/// <summary>
/// The realtime hub (<c>/hubs/realtime</c>, documented in docs/protocol.md). Its methods run the same commands
/// and queries as the REST API, so validation, idempotency, sequences and the error vocabulary are the same;
/// a refusal becomes a <see cref="HubException"/> whose message starts with the problem type. Server events are
/// not sent from here but through <see cref="IRealtimeBus"/>, which reaches every node.
/// </summary>
[Authorize(Policy = ApiScopes.ReadPolicy)]
internal sealed partial class RealtimeHub(
    ConnTextDbContext db, IOptions<MessagingOptions> options, IOptions<RealtimeOptions> realtimeOptions, TimeProvider time,
    IConversationEventNotifier notifier, RealtimeConnections connections, IRealtimeBus bus, PresenceTracker presence) : Hub
{
    public static string UserGroup(Guid userId) => $"user:{userId}";

    public override async Task OnConnectedAsync()
    {
        var me = Context.User!.UserId();
        // Registered (by TrackingHubLifetimeManager) before memberships are read: a member added meanwhile joins
        // through its envelope, one removed meanwhile stays removed (RealtimeConnection.JoinLoaded).
        var connection = connections.Find(Context.ConnectionId)
                         ?? throw new InvalidOperationException("A hub connection started without being registered.");
        var conversations = await db.ConversationMembers.AsNoTracking()
            .Where(m => m.UserId == me).Select(m => m.ConversationId)
            .ToListAsync(Context.ConnectionAborted);
        connections.JoinLoaded(connection, conversations);
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(me), Context.ConnectionAborted);
        await presence.ConnectedAsync(me, Context.ConnectionId);
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await presence.DisconnectedAsync(Context.User!.UserId(), Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Sends a message, exactly as <c>POST /api/v1/conversations/{id}/messages</c>; returns the stored message.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public async Task<MessageResponse> SendMessage(Guid conversationId, Guid clientMessageId, string? text, Guid? replyToMessageId)
    {
        var result = await MessagesEndpoints.SendAsync(
            conversationId, new SendMessageRequest(clientMessageId, text, replyToMessageId), Context.User!, db, options, time, notifier,
            Context.ConnectionAborted);
        return result.Result switch
        {
            Created<MessageResponse> created => created.Value!,
            Ok<MessageResponse> retried => retried.Value!,
            var refused => throw Refusal(refused),
        };
    }

    /// <summary>Events after a sequence, exactly as <c>GET /api/v1/conversations/{id}/events?after=…</c> (pages of 100).</summary>
    public async Task<ConversationEventPageResponse> Sync(Guid conversationId, long afterSequence)
    {
        var result = await MessagesEndpoints.EventsAsync(conversationId, Context.User!, db, Context.ConnectionAborted, afterSequence);
        return result.Result switch
        {
            Ok<ConversationEventPageResponse> page => page.Value!,
            var refused => throw Refusal(refused),
        };
    }

    /// <summary>Moves my read marker, exactly as <c>POST /api/v1/conversations/{id}/read</c>; returns where it is now.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public async Task<ReadStateResponse> MarkRead(Guid conversationId, long sequence)
    {
        var result = await MessagesEndpoints.MarkReadAsync(conversationId, new MarkReadRequest(sequence), Context.User!, db, notifier,
            Context.ConnectionAborted);
        return result.Result switch
        {
            Ok<ReadStateResponse> read => read.Value!,
            var refused => throw Refusal(refused),
        };
    }

    /// <summary>
    /// "I am typing in this conversation": passed on to its members' connections as <c>Typing</c>, at most once per
    /// <c>TypingThrottleMilliseconds</c> per connection and conversation (more often is dropped, not refused).
    /// </summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public async Task Typing(Guid conversationId)
    {
        var connection = connections.Find(Context.ConnectionId)!;
        if (!connection.Follows(conversationId))
        {
            throw new HubException($"{ProblemTypes.NotFound}: You are not a member of this conversation, or it does not exist.");
        }

        var settings = realtimeOptions.Value;
        if (!connection.TryTyping(conversationId, time.GetUtcNow(), TimeSpan.FromMilliseconds(settings.TypingThrottleMilliseconds)))
        {
            return;
        }

        await bus.PublishAsync(new RealtimeEnvelope
        {
            Method = RealtimeEvents.Typing,
            Payload = new TypingEvent(conversationId, connection.UserId, settings.TypingExpiresAfterMilliseconds),
            ConversationId = conversationId,
        });
    }

    /// <summary>This device is <c>online</c> (in use) or <c>away</c> (idle); the user's presence is the best of their devices'.</summary>
    public async Task SetPresence(string state)
    {
        if (state is not (PresenceStates.Online or PresenceStates.Away))
        {
            throw new HubException($"{ProblemTypes.Validation}: state: Give \"{PresenceStates.Online}\" or \"{PresenceStates.Away}\".");
        }

        await presence.SetAsync(Context.User!.UserId(), Context.ConnectionId, state);
    }

    /// <summary>"{problem type}: {detail}", e.g. "urn:conntext:problem:not-found: You are not a member …".</summary>
    internal static HubException Refusal(IResult result) => result switch
    {
        ValidationProblem validation => new HubException($"{validation.ProblemDetails.Type}: "
            + string.Join(" ", validation.ProblemDetails.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))),
        ProblemHttpResult problem => new HubException($"{problem.ProblemDetails.Type}: {problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title}"),
        _ => new HubException("urn:conntext:problem:internal: unexpected result"),
    };
}
