using ConnText.Contracts.Calls;
using ConnText.Server.Realtime;
using Microsoft.AspNetCore.SignalR;

namespace ConnText.Server.Calls;

/// <summary>
/// Sends call events through SignalR groups (<c>user:{id}</c>, <c>device:{id}</c>) rather than connection
/// objects, so they reach connections on any node once a backplane joins the nodes.
/// </summary>
internal sealed partial class CallNotifier(IHubContext<RealtimeHub> hub, ILogger<CallNotifier> logger)
{
    public async Task ToUsersAsync(IReadOnlyList<Guid> users, string method, CallEvent payload)
    {
        if (users.Count == 0)
        {
            return;
        }

        try
        {
            // The change is committed: a client that went away must not stop the others' events.
            await hub.Clients.Groups(users.Select(RealtimeHub.UserGroup).ToList()).SendAsync(method, payload, CancellationToken.None);
        }
#pragma warning disable CA1031 // a push failure of any kind must not fail the committed change
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPushFailed(ex, method, payload.Call.Id);
        }
    }

    public async Task ToUserExceptAsync(Guid user, string? exceptConnectionId, string method, CallEvent payload)
    {
        try
        {
            var group = RealtimeHub.UserGroup(user);
            var clients = exceptConnectionId is null ? hub.Clients.Group(group) : hub.Clients.GroupExcept(group, exceptConnectionId);
            await clients.SendAsync(method, payload, CancellationToken.None);
        }
#pragma warning disable CA1031 // as above
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPushFailed(ex, method, payload.Call.Id);
        }
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Could not push {Method} of call {CallId}")]
    private partial void LogPushFailed(Exception exception, string method, Guid callId);
}
