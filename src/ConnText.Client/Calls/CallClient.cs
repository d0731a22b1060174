using ConnText.Client.Api;
using ConnText.Contracts.Calls;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Client.Calls;

/// <summary>
/// The call side of an account's realtime connection (docs/protocol.md, "Calls"): the hub's call methods, and its call
/// and signaling events raised as .NET events. Media is not here: the UI's WebRTC module makes the peer connections
/// and exchanges its offers, answers and candidates through <see cref="SignalAsync"/> and <see cref="SignalReceived"/>.
/// </summary>
public sealed class CallClient
{
    private static readonly string[] CallEventNames =
    [
        CallEvents.CallRinging, CallEvents.CallAccepted, CallEvents.CallAnsweredElsewhere, CallEvents.CallDeclined,
        CallEvents.CallParticipantJoined, CallEvents.CallParticipantLeft, CallEvents.CallEnded,
    ];

    private readonly HubConnection hub;
    private readonly ConnTextApi api;
    private readonly Lock gate = new();
    private readonly Dictionary<Guid, CallResponse> ringing = [];

    internal CallClient(HubConnection hub, ConnTextApi api, Guid userId)
    {
        this.hub = hub;
        this.api = api;
        UserId = userId;
        foreach (var name in CallEventNames)
        {
            // Handlers run on the connection's receive loop: they only record and raise, never invoke the hub.
            hub.On<CallEvent>(name, e => OnCallEvent(name, e));
        }

        hub.On<SignalEvent>(CallEvents.Signal, signal => SignalReceived?.Invoke(this, new SignalEventArgs(signal)));
        hub.On<PeerSignalEvent>(CallEvents.PeerSignal, signal => PeerSignalReceived?.Invoke(this, new PeerSignalEventArgs(signal)));
    }

    /// <summary>Raised (on any thread) for each signal outside calls (direct file transfer) another device sent to this one.</summary>
    public event EventHandler<PeerSignalEventArgs>? PeerSignalReceived;

    /// <summary>Raised (on any thread) for every call event of the hub except signals.</summary>
    public event EventHandler<CallChangedEventArgs>? CallChanged;

    /// <summary>Raised (on any thread) for each signaling message another device of a call sent to this one.</summary>
    public event EventHandler<SignalEventArgs>? SignalReceived;

    /// <summary>The signed-in user.</summary>
    public Guid UserId { get; }

    /// <summary>Calls that ring for this user right now (rung, not yet answered, declined, or ended).</summary>
    public IReadOnlyList<CallResponse> Ringing
    {
        get
        {
            lock (gate)
            {
                return [.. ringing.Values];
            }
        }
    }

    /// <summary>This connection's device id: the address other devices send their signals to.</summary>
    public Task<string> DeviceIdAsync(CancellationToken cancellationToken) => hub.InvokeAsync<string>("CallDevice", cancellationToken);

    /// <summary>Starts a call (<see cref="CallMedia"/>) in a conversation, or joins the one already ringing or active there (glare).</summary>
    public Task<CallResponse> StartAsync(Guid conversationId, string media, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("StartCall", conversationId, media, cancellationToken));

    /// <summary>Answers a call that rings here.</summary>
    public Task<CallResponse> AcceptAsync(Guid callId, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("AcceptCall", callId, cancellationToken));

    /// <summary>Declines a call that rings here.</summary>
    public Task<CallResponse> DeclineAsync(Guid callId, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("DeclineCall", callId, cancellationToken));

    /// <summary>Joins a call of one of the user's conversations (a group call going on, or rejoining).</summary>
    public Task<CallResponse> JoinAsync(Guid callId, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("JoinCall", callId, cancellationToken));

    /// <summary>Leaves a joined call.</summary>
    public Task<CallResponse> LeaveAsync(Guid callId, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("LeaveCall", callId, cancellationToken));

    /// <summary>Declines when the call rings here, otherwise leaves (the caller of a ringing call cancels it).</summary>
    public Task<CallResponse> HangUpAsync(Guid callId, CancellationToken cancellationToken) =>
        Tracked(hub.InvokeAsync<CallResponse>("HangUp", callId, cancellationToken));

    /// <summary>Relays <paramref name="payload"/> (opaque to the server) to another joined device of the call.</summary>
    public Task SignalAsync(Guid callId, string targetDeviceId, string payload, CancellationToken cancellationToken) =>
        hub.InvokeAsync("Signal", callId, targetDeviceId, payload, cancellationToken);

    /// <summary>Relays <paramref name="payload"/> to a device of another user (null: all of them) outside calls.</summary>
    public Task PeerSignalAsync(Guid toUserId, string? toDeviceId, string payload, CancellationToken cancellationToken) =>
        hub.InvokeAsync("PeerSignal", toUserId, toDeviceId, payload, cancellationToken);

    /// <summary>STUN/TURN servers for <c>RTCPeerConnection</c>, with TURN credentials valid until <c>expiresAt</c>.</summary>
    public Task<IceServersResponse> IceServersAsync(CancellationToken cancellationToken) => api.GetIceServersAsync(cancellationToken);

    private async Task<CallResponse> Tracked(Task<CallResponse> command)
    {
        var call = await command;
        Record(call);
        return call;
    }

    private void OnCallEvent(string name, CallEvent e)
    {
        if (name == CallEvents.CallAnsweredElsewhere)
        {
            lock (gate)
            {
                ringing.Remove(e.Call.Id); // Another device of this user answered: stop ringing here.
            }
        }
        else
        {
            Record(e.Call);
        }

        CallChanged?.Invoke(this, new CallChangedEventArgs(name, e));
    }

    private void Record(CallResponse call)
    {
        var me = call.Participants.FirstOrDefault(p => p.UserId == UserId);
        var ringsHere = call.State != CallStates.Ended && me is { State: CallParticipantStates.Invited } && call.InitiatorId != UserId
                        && (call.State == CallStates.Ringing || call.RingDeadline > DateTimeOffset.UtcNow);
        lock (gate)
        {
            if (ringsHere)
            {
                ringing[call.Id] = call;
            }
            else
            {
                ringing.Remove(call.Id);
            }
        }
    }
}

/// <summary>A call event of the hub.</summary>
public sealed class CallChangedEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public CallChangedEventArgs(string kind, CallEvent change)
    {
        Kind = kind;
        Change = change;
    }

    /// <summary>The event's name (<see cref="CallEvents"/>).</summary>
    public string Kind { get; }

    /// <summary>The call right after the change, and who caused it.</summary>
    public CallEvent Change { get; }
}

/// <summary>A signaling message from another device of a call.</summary>
public sealed class SignalEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public SignalEventArgs(SignalEvent signal) => Signal = signal;

    /// <summary>The call, the sending device, and the payload.</summary>
    public SignalEvent Signal { get; }
}

/// <summary>A signaling message outside calls from another device.</summary>
public sealed class PeerSignalEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public PeerSignalEventArgs(PeerSignalEvent signal) => Signal = signal;

    /// <summary>The sender, its device, and the payload.</summary>
    public PeerSignalEvent Signal { get; }
}
