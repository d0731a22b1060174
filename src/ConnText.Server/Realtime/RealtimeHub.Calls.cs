using ConnText.Contracts.Calls;
using ConnText.Server.Auth;
using ConnText.Server.Calls;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.SignalR;

namespace ConnText.Server.Realtime;

/// <summary>
/// Calls over the hub (docs/protocol.md, "Calls"). The logic is in the Calls folder; these methods only name
/// the caller's device and turn a refusal into "type: detail". Services come as method parameters, so the
/// hub's constructor stays the realtime feature's.
/// </summary>
internal sealed partial class RealtimeHub
{
    /// <summary>This connection's call device id (the id other devices address signals to).</summary>
    public string CallDevice() => CallDevices.Of(Context);

    /// <summary>Starts a call in a conversation (rings the other members' devices); joins the conversation's call if one is already ringing or active.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> StartCall(Guid conversationId, string? media, [FromServices] CallCommands commands) =>
        Refusing(() => commands.StartAsync(Caller(), conversationId, media, Context.ConnectionAborted));

    /// <summary>Answers a call that rings for the caller; the first device to accept wins.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> AcceptCall(Guid callId, [FromServices] CallCommands commands) =>
        Refusing(() => commands.AcceptAsync(Caller(), callId, Context.ConnectionAborted));

    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> DeclineCall(Guid callId, [FromServices] CallCommands commands) =>
        Refusing(() => commands.DeclineAsync(Caller(), callId, Context.ConnectionAborted));

    /// <summary>Joins a call of one of the caller's conversations (a group call already going on, or rejoining).</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> JoinCall(Guid callId, [FromServices] CallCommands commands) =>
        Refusing(() => commands.JoinAsync(Caller(), callId, Context.ConnectionAborted));

    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> LeaveCall(Guid callId, [FromServices] CallCommands commands) =>
        Refusing(() => commands.LeaveAsync(Caller(), callId, Context.ConnectionAborted));

    /// <summary>Declines if ringing for the caller, otherwise leaves; the caller of a ringing call cancels it.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task<CallResponse> HangUp(Guid callId, [FromServices] CallCommands commands) =>
        Refusing(() => commands.HangUpAsync(Caller(), callId, Context.ConnectionAborted));

    /// <summary>Relays an offer, answer, ICE candidate or renegotiation to another device of the call.</summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task Signal(Guid callId, string? targetDeviceId, string? payload, [FromServices] CallSignals signals) =>
        Refusing(async () =>
        {
            await signals.RelayAsync(Caller(), callId, targetDeviceId, payload, Context.ConnectionAborted);
            return 0;
        });

    /// <summary>
    /// Relays a signal outside calls (peer-to-peer data channels) to a device of a user who shares a conversation with
    /// the caller, or to all of that user's devices when <paramref name="toDeviceId"/> is null.
    /// </summary>
    [Authorize(Policy = ApiScopes.WritePolicy)]
    public Task PeerSignal(Guid toUserId, string? toDeviceId, string? payload, [FromServices] PeerSignals signals) =>
        Refusing(async () =>
        {
            await signals.RelayAsync(Caller(), toUserId, toDeviceId, payload, Context.ConnectionAborted);
            return 0;
        });

    private CallCaller Caller() => new(Context.User!.UserId(), CallDevices.Of(Context), Context.ConnectionId);

    private static async Task<T> Refusing<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (CallRefusedException refused)
        {
            throw new HubException($"{refused.Type}: {refused.Message}");
        }
    }
}
