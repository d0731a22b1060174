using System.Collections.Concurrent;
using System.Threading.Channels;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Realtime;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Server.Tests.Calls;

/// <summary>One device (app login) of a user, connected to the real hub, recording every call event it receives.</summary>
internal sealed class CallDevice : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static readonly string[] EventNames =
    [
        CallEvents.CallRinging, CallEvents.CallAccepted, CallEvents.CallAnsweredElsewhere, CallEvents.CallDeclined,
        CallEvents.CallParticipantJoined, CallEvents.CallParticipantLeft, CallEvents.CallEnded,
    ];

    private readonly Channel<(string Name, CallEvent Event)> events = Channel.CreateUnbounded<(string, CallEvent)>();

    private CallDevice(HubConnection hub, HttpClient api)
    {
        Hub = hub;
        Api = api;
    }

    public HubConnection Hub { get; }

    public HttpClient Api { get; }

    public string DeviceId { get; private set; } = "";

    /// <summary>Every call event received, in order (also those already read).</summary>
    public ConcurrentQueue<(string Name, CallEvent Event)> Received { get; } = new();

    public Channel<SignalEvent> Signals { get; } = Channel.CreateUnbounded<SignalEvent>();

    public Channel<PeerSignalEvent> PeerSignals { get; } = Channel.CreateUnbounded<PeerSignalEvent>();

    public Channel<EventAppendedEvent> Appended { get; } = Channel.CreateUnbounded<EventAppendedEvent>();

    public static async Task<CallDevice> ConnectAsync(ServerInstance server, HttpClient api)
    {
        var token = api.DefaultRequestHeaders.Authorization!.Parameter!;
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, "/hubs/realtime"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var device = new CallDevice(hub, api);
        foreach (var name in EventNames)
        {
            hub.On<CallEvent>(name, e =>
            {
                device.Received.Enqueue((name, e));
                device.events.Writer.TryWrite((name, e));
            });
        }

        hub.On<SignalEvent>(CallEvents.Signal, s => device.Signals.Writer.TryWrite(s));
        hub.On<PeerSignalEvent>(CallEvents.PeerSignal, s => device.PeerSignals.Writer.TryWrite(s));
        hub.On<EventAppendedEvent>("EventAppended", e => device.Appended.Writer.TryWrite(e));
        await hub.StartAsync();
        device.DeviceId = await hub.InvokeAsync<string>("CallDevice");
        return device;
    }

    /// <summary>Reads events until one named <paramref name="name"/> for <paramref name="callId"/> arrives.</summary>
    public async Task<CallEvent> WaitForAsync(string name, Guid callId)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var (received, e) = await events.Reader.ReadAsync(timeout.Token);
            if (received == name && e.Call.Id == callId)
            {
                return e;
            }
        }
    }

    public bool HasReceived(string name, Guid callId) => Received.Any(r => r.Name == name && r.Event.Call.Id == callId);

    public Task<CallResponse> StartAsync(Guid conversationId, string media = CallMedia.Audio) =>
        Hub.InvokeAsync<CallResponse>("StartCall", conversationId, media);

    public Task<CallResponse> InvokeAsync(string method, Guid callId) => Hub.InvokeAsync<CallResponse>(method, callId);

    public async ValueTask DisposeAsync() => await Hub.DisposeAsync();

    /// <summary>The problem type at the start of a hub refusal ("… HubException: {type}: {detail}").</summary>
    public static void AssertRefused(HubException exception, string type)
    {
        const string marker = "HubException: ";
        var index = exception.Message.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(index >= 0 && exception.Message[(index + marker.Length)..].StartsWith(type + ": ", StringComparison.Ordinal), exception.Message);
    }
}
