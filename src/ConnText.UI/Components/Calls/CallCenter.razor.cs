using System.Globalization;
using System.Threading.Channels;
using ConnText.Client.Api;
using ConnText.Client.Calls;
using ConnText.Client.Sessions;
using ConnText.Contracts.Calls;
using ConnText.UI.Shell;
using ConnText.UI.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.JSInterop;

namespace ConnText.UI.Components.Calls;

/// <summary>
/// The window's calls: rings for incoming calls of every account, places calls the buttons ask for, and runs the
/// WebRTC module (wwwroot/calls.js) for the call in progress: signaling in and out through the account's
/// <see cref="CallClient"/>, controls, timer, connection path and quality from getStats.
/// </summary>
public sealed partial class CallCenter : IAsyncDisposable
{
    private readonly HashSet<AccountSession> subscribed = [];
    private readonly Dictionary<AccountSession, string> deviceIds = [];
    private readonly Channel<(AccountSession Session, SignalEvent Signal)> signals =
        Channel.CreateUnbounded<(AccountSession, SignalEvent)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<(AccountSession Session, Guid CallId, string DeviceId, string Payload)> outgoing =
        Channel.CreateUnbounded<(AccountSession, Guid, string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private IJSObjectReference? module;
    private DotNetObjectReference<CallCenter>? self;
    private ElementReference stage;
    private CallMode mode;
    private AccountSession? session;
    private CallResponse? call;
    private bool muted;
    private bool answering;
    private bool cameraOn;
    private bool sharing;
    private string? status;
    private string? statusReason;
    private string? error;
    private CallStats? stats;
    private IReadOnlyList<MediaDeviceInfo> devices = [];
    private Task? ticking;
    private Task? forwarding;
    private Task? sending;
    private Guid? mediaCallId; // set on the circuit's dispatcher, read by the signal loop after each await
    private readonly List<(AccountSession Session, string Kind, CallEvent Change)> early = [];

    private enum CallMode
    {
        None,
        Incoming,
        Outgoing,
        Active,
    }

    [Inject]
    private AccountManager Accounts { get; set; } = null!;

    [Inject]
    private CallRequests Requests { get; set; } = null!;

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    [Inject]
    private IOptions<CallSettings> Settings { get; set; } = null!;

    [Inject]
    private ILogger<CallCenter> Logger { get; set; } = null!;

    private string StateName => mode switch
    {
        CallMode.Incoming => "incoming",
        CallMode.Outgoing => "outgoing",
        CallMode.Active => "active",
        _ => "none",
    };

    private string ConversationName =>
        call is not null && session?.Store.Conversation(call.ConversationId) is { } stored
            ? Names.Conversation(stored.Conversation, session.Account.UserId)
            : "Call";

    private string Path => stats?.Peers.Count > 0 ? stats.Peers[0].Path : "connecting";

    private string PathText
    {
        get
        {
            if (stats is null || stats.Peers.Count == 0)
            {
                return "Connecting…";
            }

            var paths = stats.Peers.Select(p => p.Path).Distinct(StringComparer.Ordinal).ToList();
            var how = paths.Count == 1 ? paths[0] switch
            {
                "direct" => "Direct (peer-to-peer)",
                "relay" => "Through a relay (TURN)",
                _ => "Connecting…",
            } : "Direct and relayed";
            var encrypted = stats.Peers.All(p => p.DtlsState == "connected") ? " · DTLS-SRTP encrypted" : "";
            return how + encrypted;
        }
    }

    private string QualityText
    {
        get
        {
            if (stats is null || stats.Peers.Count == 0)
            {
                return "";
            }

            var rtt = stats.Peers.Max(p => p.RoundTripMs ?? 0);
            var loss = stats.Peers.Max(p => p.LossPercent);
            var kbps = stats.Peers.Sum(p => p.BitrateKbps);
            var grade = rtt > 400 || loss > 5 ? "poor" : rtt > 150 || loss > 1 ? "fair" : "good";
            return string.Create(CultureInfo.InvariantCulture, $"Quality {grade}: {rtt} ms, {loss:0.#}% loss, {kbps} kbit/s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Accounts.Changed -= OnAccountsChanged;
        Requests.Starter = null;
        foreach (var s in subscribed)
        {
            s.Calls.CallChanged -= OnCallChanged;
            s.Calls.SignalReceived -= OnSignal;
        }

        await stop.CancelAsync();
        signals.Writer.TryComplete();
        outgoing.Writer.TryComplete();
        foreach (var loop in new[] { ticking, forwarding, sending })
        {
            if (loop is not null)
            {
                await loop; // each ends on the cancellation
            }
        }

        if (call is { } current && session is { } owner && mode is CallMode.Outgoing or CallMode.Active)
        {
            // The window went away mid-call: leave, so the other side is not left waiting for the disconnect grace.
            await Safely(() => owner.Calls.HangUpAsync(current.Id, CancellationToken.None));
        }

        if (module is not null)
        {
            try
            {
                await module.InvokeVoidAsync("hangUp");
                await module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // The window is gone with its media.
            }
        }

        self?.Dispose();
        stop.Dispose();
    }

    /// <summary>From the module: sends a signal to a device of the call (queued: sent one at a time, in order).</summary>
    [JSInvokable]
    public void Signal(string deviceId, string payload)
    {
        if (call is { } current && session is { } s)
        {
            outgoing.Writer.TryWrite((s, current.Id, deviceId, payload));
        }
    }

    /// <summary>From the module: fresh ICE servers before the TURN credentials expire.</summary>
    [JSInvokable]
    public async Task<IceServersResponse?> RefreshIceServers() =>
        session is null ? null : await session.Calls.IceServersAsync(stop.Token);

    /// <summary>From the module: a peer connection changed state.</summary>
    [JSInvokable]
    public Task PeerStateChanged(string deviceId, string state) => InvokeAsync(StateHasChanged);

    /// <summary>From the module: the user stopped sharing from the browser's own control.</summary>
    [JSInvokable]
    public Task ScreenShareStopped()
    {
        sharing = false;
        return InvokeAsync(StateHasChanged);
    }

    protected override void OnInitialized()
    {
        Requests.Starter = StartAsync;
        Accounts.Changed += OnAccountsChanged;
        Subscribe();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            module = await JS.InvokeAsync<IJSObjectReference>("import", "./_content/ConnText.UI/calls.js");
            self = DotNetObjectReference.Create(this);
            forwarding = ForwardSignalsAsync();
            sending = SendSignalsAsync();
            ticking = TickAsync();
            // A call that started ringing before this window opened.
            foreach (var s in subscribed)
            {
                if (mode == CallMode.None && s.Calls.Ringing is [var ringingCall, ..])
                {
                    await RingAsync(s, ringingCall);
                }
            }
        }
    }

    private void OnAccountsChanged(object? sender, EventArgs e) => _ = InvokeAsync(Subscribe);

    private void Subscribe()
    {
        foreach (var s in Accounts.Sessions)
        {
            if (subscribed.Add(s))
            {
                s.Calls.CallChanged += OnCallChanged;
                s.Calls.SignalReceived += OnSignal;
            }
        }
    }

    private void OnCallChanged(object? sender, CallChangedEventArgs e)
    {
        var s = subscribed.FirstOrDefault(x => ReferenceEquals(x.Calls, sender));
        if (s is not null)
        {
            _ = InvokeAsync(() => Safely(() => OnCallEventAsync(s, e.Kind, e.Change)));
        }
    }

    private void OnSignal(object? sender, SignalEventArgs e)
    {
        var s = subscribed.FirstOrDefault(x => ReferenceEquals(x.Calls, sender));
        if (s is not null)
        {
            signals.Writer.TryWrite((s, e.Signal));
        }
    }

    /// <summary>One at a time, in the order the module made them: a candidate must not overtake its offer.</summary>
    private async Task SendSignalsAsync()
    {
        try
        {
            await foreach (var (s, callId, deviceId, payload) in outgoing.Reader.ReadAllAsync(stop.Token))
            {
                try
                {
                    await s.Calls.SignalAsync(callId, deviceId, payload, stop.Token);
                }
                catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException)
                {
                    LogSignalRefused(Logger, ex); // the peer left, or the connection dropped: ICE restarts or the call ends
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window closed.
        }
    }

    /// <summary>One at a time, in arrival order: an answer must not overtake its offer.</summary>
    private async Task ForwardSignalsAsync()
    {
        try
        {
            await foreach (var (s, signal) in signals.Reader.ReadAllAsync(stop.Token))
            {
                // In glare the other side's offer can come before this side opened its media (the module has no call
                // yet): hold it until then, as a dropped offer would leave both sides waiting.
                for (var waited = 0; mediaCallId != signal.CallId && call?.Id == signal.CallId && waited < 200; waited++)
                {
                    await Task.Delay(50, stop.Token);
                }

                await InvokeAsync(async () =>
                {
                    if (module is not null && ReferenceEquals(s, session) && call?.Id == signal.CallId)
                    {
                        await module.InvokeVoidAsync("signal", signal.FromDeviceId, signal.Payload);
                    }
                    else
                    {
                        LogSignalDropped(Logger, signal.CallId, call?.Id, mode.ToString());
                    }
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or JSDisconnectedException or ObjectDisposedException)
        {
            // The window closed.
        }
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await InvokeAsync(async () =>
                {
                    if (mode == CallMode.Active && module is not null)
                    {
                        stats = await module.InvokeAsync<CallStats>("stats");
                    }
                    else if (mode == CallMode.Incoming && !answering && call is { State: CallStates.Active } group && group.RingDeadline < DateTimeOffset.UtcNow)
                    {
                        await StopRingingAsync(); // A group call stops ringing at its deadline on its own (docs/protocol.md).
                    }

                    if (mode != CallMode.None)
                    {
                        StateHasChanged();
                    }
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or JSDisconnectedException or ObjectDisposedException)
        {
            // The window closed.
        }
    }

    private async Task OnCallEventAsync(AccountSession s, string kind, CallEvent change)
    {
        var changed = change.Call;
        var me = s.Account.UserId;
        if (kind == CallEvents.CallRinging)
        {
            if (mode == CallMode.None && changed.InitiatorId != me)
            {
                await RingAsync(s, changed);
            }

            return;
        }

        if (ReferenceEquals(s, session) && mode == CallMode.Outgoing && call is null)
        {
            early.Add((s, kind, change)); // about the call being started, before StartCall's answer came back (read there)
            return;
        }

        if (!ReferenceEquals(s, session) || call?.Id != changed.Id)
        {
            return;
        }

        call = changed;
        switch (kind)
        {
            case CallEvents.CallAnsweredElsewhere when mode == CallMode.Incoming:
                await StopRingingAsync();
                SetStatus("Answered on another device", "elsewhere");
                break;
            case CallEvents.CallAccepted or CallEvents.CallParticipantJoined when mode is CallMode.Outgoing or CallMode.Active:
                mode = CallMode.Active;
                await ConnectJoinedAsync(s, changed);
                break;
            case CallEvents.CallParticipantLeft when mode == CallMode.Active && change.DeviceId is { } left:
                await module!.InvokeVoidAsync("disconnect", left);
                break;
            case CallEvents.CallEnded:
                await EndedAsync(s, changed);
                break;
            default:
                break;
        }

        StateHasChanged();
    }

    private async Task RingAsync(AccountSession s, CallResponse ringingCall)
    {
        session = s;
        call = ringingCall;
        mode = CallMode.Incoming;
        status = null;
        Requests.SetBusy(true, ringingCall.ConversationId); // calling back answers (glare seen from the slower side)
        if (module is not null)
        {
            await module.InvokeAsync<bool>("ring", true);
        }

        StateHasChanged();
    }

    private async Task StopRingingAsync()
    {
        if (module is not null)
        {
            await module.InvokeAsync<bool>("ring", false);
        }

        Reset();
    }

    private async Task StartAsync(AccountSession s, Guid conversationId, string media)
    {
        if (mode == CallMode.Incoming && ReferenceEquals(s, session) && call?.ConversationId == conversationId)
        {
            // Glare, seen from this side: the other's call rang here just before this click was handled. Calling them
            // back is answering (the server would join this start to their call anyway).
            await InvokeAsync(AcceptAsync);
            return;
        }

        if (mode != CallMode.None || module is null)
        {
            return;
        }

        await InvokeAsync(async () =>
        {
            error = null;
            status = null;
            session = s;
            mode = CallMode.Outgoing;
            call = null;
            Requests.SetBusy(true);
            StateHasChanged();
            try
            {
                // The devices open while the call rings: the camera is ready when the other side answers.
                early.Clear();
                var started = await s.Calls.StartAsync(conversationId, media, stop.Token);
                // Events about this call that overtook StartCall's answer are newer than it: an end is final (busy:
                // the server ends the call before it answers); otherwise the latest one (glare: the other side's start
                // joined this call, which is active by now).
                var overtook = early.Where(e => e.Change.Call.Id == started.Id).Select(e => e.Change.Call).ToList();
                early.Clear();
                call = overtook.LastOrDefault(c => c.State == CallStates.Ended) ?? overtook.LastOrDefault() ?? started;
                if (call.State == CallStates.Ended)
                {
                    await EndedAsync(s, call);
                    return;
                }

                await OpenMediaAsync(s, started);
                if (mode == CallMode.None || call?.Id != started.Id)
                {
                    await module.InvokeVoidAsync("hangUp"); // it ended while the devices opened
                    return;
                }

                if (call.State == CallStates.Active)
                {
                    // Glare (both called at once): the start joined the other side's call. Or it was answered while
                    // the devices opened, when the module had no call to connect yet.
                    mode = CallMode.Active;
                    await ConnectJoinedAsync(s, call);
                }
            }
            catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException or JSException)
            {
                await FailAsync("Could not start the call: " + Reason(ex));
            }
            finally
            {
                StateHasChanged(); // this runs outside the component's own event handlers: nothing else re-renders it
            }
        });
    }

    private async Task AcceptAsync()
    {
        // Once: a second click while the devices open would start the media again and lose the first offer.
        if (answering || mode != CallMode.Incoming || call is not { } ringingCall || session is not { } s || module is null)
        {
            return;
        }

        answering = true;

        await module.InvokeAsync<bool>("ring", false);
        try
        {
            await OpenMediaAsync(s, ringingCall);
            var accepted = await s.Calls.AcceptAsync(ringingCall.Id, stop.Token);
            // Others who joined while the answer was on its way came as events (recorded in call, not acted on).
            var meanwhile = call;
            call = accepted;
            mode = CallMode.Active;
            answering = false;
            Requests.SetBusy(true); // in the call: no button starts another
            await ConnectJoinedAsync(s, accepted, meanwhile);
        }
        catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException or JSException)
        {
            await FailAsync("Could not answer: " + Reason(ex));
        }
    }

    private async Task DeclineAsync()
    {
        if (answering || mode != CallMode.Incoming || call is not { } ringingCall || session is not { } s)
        {
            return;
        }

        await StopRingingAsync();
        await Safely(() => s.Calls.DeclineAsync(ringingCall.Id, stop.Token));
        SetStatus("Call declined", CallEndReasons.Declined);
    }

    private async Task HangUpAsync()
    {
        if (call is not { } current || session is not { } s)
        {
            await FailAsync(null);
            return;
        }

        await module!.InvokeVoidAsync("hangUp");
        Reset();
        try
        {
            var ended = await s.Calls.HangUpAsync(current.Id, stop.Token);
            if (ended.State == CallStates.Ended)
            {
                SetStatus(Outcome(s, ended), ended.EndReason);
            }
            else
            {
                SetStatus("You left the call", "left");
            }
        }
        catch (HubException ex)
        {
            SetStatus("Call ended", Reason(ex));
        }
    }

    private async Task ToggleMuteAsync() => muted = await module!.InvokeAsync<bool>("setMuted", !muted);

    private async Task ToggleCameraAsync()
    {
        try
        {
            cameraOn = await module!.InvokeAsync<bool>("setCamera", !cameraOn, (string?)null);
        }
        catch (JSException ex)
        {
            error = "Camera: " + ex.Message;
        }
    }

    private async Task ToggleShareAsync()
    {
        try
        {
            sharing = await module!.InvokeAsync<bool>("shareScreen", !sharing);
        }
        catch (JSException ex)
        {
            error = "Screen sharing: " + ex.Message;
        }
    }

    private async Task SwitchDeviceAsync(ChangeEventArgs e, string function)
    {
        if (e.Value is string deviceId && deviceId.Length > 0)
        {
            try
            {
                await module!.InvokeVoidAsync(function, deviceId);
            }
            catch (JSException ex)
            {
                error = "Device: " + ex.Message;
            }
        }
    }

    private async Task OpenMediaAsync(AccountSession s, CallResponse target)
    {
        if (!deviceIds.TryGetValue(s, out var device))
        {
            device = await s.Calls.DeviceIdAsync(stop.Token);
            deviceIds[s] = device;
        }

        var ice = await s.Calls.IceServersAsync(stop.Token);
        mediaCallId = target.Id; // the module has this call from here on (signals may go to it)
        var opened = await module!.InvokeAsync<OpenedMedia>("start", new
        {
            callId = target.Id,
            selfDeviceId = device,
            media = target.Media,
            iceServers = ice,
            relayOnly = Settings.Value.RelayOnly,
            stage,
            dotnet = self,
        });
        muted = false;
        cameraOn = opened.HasVideo;
        sharing = false;
        if (opened.MediaError is { } mediaError)
        {
            error = "Microphone/camera unavailable (" + mediaError + "): the call receives only.";
        }

        devices = await module!.InvokeAsync<MediaDeviceInfo[]>("devices");
    }

    /// <summary>Connects to every other joined device of the views given (connecting twice is a no-op).</summary>
    private async Task ConnectJoinedAsync(AccountSession s, params CallResponse?[] views)
    {
        var own = deviceIds.GetValueOrDefault(s);
        var devices = views.Where(v => v?.Id == call?.Id)
            .SelectMany(v => v!.Participants)
            .Where(p => p.State == CallParticipantStates.Joined && p.DeviceId is not null && p.DeviceId != own)
            .Select(p => p.DeviceId!)
            .Distinct(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            await module!.InvokeVoidAsync("connect", device);
        }
    }

    private async Task EndedAsync(AccountSession s, CallResponse ended)
    {
        if (module is not null)
        {
            await module.InvokeVoidAsync("hangUp");
        }

        Reset();
        SetStatus(Outcome(s, ended), ended.EndReason);
    }

    private async Task FailAsync(string? message)
    {
        if (module is not null)
        {
            await module.InvokeVoidAsync("hangUp");
        }

        Reset();
        error = message;
    }

    private void Reset()
    {
        mode = CallMode.None;
        answering = false;
        stats = null;
        muted = false;
        sharing = false;
        Requests.SetBusy(false);
    }

    private void Dismiss() => status = null;

    private void SetStatus(string text, string? reason)
    {
        status = text;
        statusReason = reason;
    }

    /// <summary>What the end of a call means to this user.</summary>
    private string Outcome(AccountSession s, CallResponse ended)
    {
        var me = s.Account.UserId;
        var mine = ended.InitiatorId == me;
        var other = ended.Participants.FirstOrDefault(p => p.UserId != me)?.UserId;
        var otherName = other is { } o ? Who(o) : "They";
        return ended.EndReason switch
        {
            CallEndReasons.Declined => mine ? $"{otherName} declined" : "Call declined",
            CallEndReasons.Missed => mine ? "No answer" : $"Missed call from {Who(ended.InitiatorId)}",
            CallEndReasons.Busy => mine ? $"{otherName} is busy" : $"Missed call from {Who(ended.InitiatorId)} (you were in a call)",
            CallEndReasons.Cancelled => mine ? "Call cancelled" : $"Missed call from {Who(ended.InitiatorId)}",
            CallEndReasons.Failed => "Call ended: a connection was lost",
            _ => string.Create(CultureInfo.InvariantCulture, $"Call ended · {TimeSpan.FromSeconds(ended.DurationSeconds ?? 0):m\\:ss}"),
        };
    }

    private string Who(Guid userId) =>
        call is not null && session?.Store.Conversation(call.ConversationId) is { } stored
            ? Names.Member(stored.Conversation, userId)
            : "Someone";

    private static string Elapsed(CallResponse current) =>
        current.AnsweredAt is { } answered
            ? (DateTimeOffset.UtcNow - answered).ToString(@"m\:ss", CultureInfo.InvariantCulture)
            : "0:00";

    private static string Reason(Exception ex) =>
        ex.Message.Contains("urn:conntext:problem:", StringComparison.Ordinal)
            ? ex.Message[(ex.Message.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]
            : ex.Message;

    private async Task Safely(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException
                                       or JSException or JSDisconnectedException or OperationCanceledException)
        {
            LogCallActionFailed(Logger, ex);
            error = Reason(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A call signal was not delivered")]
    private static partial void LogSignalRefused(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A signal for call {CallId} was dropped (this window's call: {Current}, {Mode})")]
    private static partial void LogSignalDropped(ILogger logger, Guid callId, Guid? current, string mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "A call action failed")]
    private static partial void LogCallActionFailed(ILogger logger, Exception exception);

    /// <summary>What the module's <c>start</c> returns.</summary>
    private sealed record OpenedMedia(string? MediaError, bool HasAudio, bool HasVideo);

    /// <summary>A microphone, camera or speaker.</summary>
    private sealed record MediaDeviceInfo(string Kind, string DeviceId, string Label);

    /// <summary>The module's <c>stats()</c>.</summary>
    private sealed record CallStats(bool Active, IReadOnlyList<PeerStats> Peers);

    /// <summary>One remote device's figures.</summary>
    private sealed record PeerStats(string DeviceId, string Path, string? DtlsState, int? RoundTripMs, double LossPercent, int BitrateKbps);
}
