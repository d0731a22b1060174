using ConnText.Contracts.Conversations;
using ConnText.Server.Auth;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Realtime;

/// <summary>
/// The realtime hub (<c>/hubs/realtime</c>, documented in docs/protocol.md). Its methods run the same commands
/// and queries as the REST API, so validation, idempotency, sequences and the error vocabulary are the same;
/// a refusal becomes a <see cref="HubException"/> whose message starts with the problem type.
/// </summary>
[Authorize(Policy = ApiScopes.ReadPolicy)]
internal sealed partial class RealtimeHub(
    ConnTextDbContext db, IOptions<MessagingOptions> options, TimeProvider time, IConversationEventNotifier notifier,
    RealtimeConnections connections) : Hub
{
    public const string EventAppended = "EventAppended";

    public static string ConversationGroup(Guid conversationId) => $"conv:{conversationId}";

    public static string UserGroup(Guid userId) => $"user:{userId}";

    public override async Task OnConnectedAsync()
    {
        var me = Context.User!.UserId();
        // Tracked before memberships are read: a member added meanwhile is joined by the notifier or by the loop below.
        connections.Add(me, Context.ConnectionId);
        var conversations = await db.ConversationMembers.AsNoTracking()
            .Where(m => m.UserId == me).Select(m => m.ConversationId)
            .ToListAsync(Context.ConnectionAborted);
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(me), Context.ConnectionAborted);
        foreach (var conversationId in conversations)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, ConversationGroup(conversationId), Context.ConnectionAborted);
        }

        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Remove(Context.User!.UserId(), Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
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

    /// <summary>"{problem type}: {detail}", e.g. "urn:conntext:problem:not-found: You are not a member …".</summary>
    internal static HubException Refusal(IResult result) => result switch
    {
        ValidationProblem validation => new HubException($"{validation.ProblemDetails.Type}: "
            + string.Join(" ", validation.ProblemDetails.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))),
        ProblemHttpResult problem => new HubException($"{problem.ProblemDetails.Type}: {problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title}"),
        _ => new HubException("urn:conntext:problem:internal: unexpected result"),
    };
}
