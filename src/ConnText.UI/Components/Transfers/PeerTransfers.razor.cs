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

namespace ConnText.UI.Components.Transfers;

/// <summary>
/// The window's data channels to other devices (docs/desktop.md, "Direct file transfer" and "Peer-to-peer
/// conversations"): runs wwwroot/peers.js for every account — its signals in and out through the account's
/// <see cref="CallClient"/> (the hub's PeerSignal), the ICE servers — shows each file transfer with its progress,
/// accept and decline, and the way out through the server when no direct connection can be made, and delivers the
/// messages of peer-to-peer conversations waiting in the accounts' outboxes (at once, when the other side shows up,
/// and every <see cref="RetryEvery"/>).
/// </summary>
public sealed partial class PeerTransfers : IAsyncDisposable
{
    private static readonly TimeSpan IceServersFor = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(10);

    private readonly HashSet<AccountSession> subscribed = [];
    private readonly Dictionary<AccountSession, DateTimeOffset> started = [];
    private readonly Dictionary<string, Entry> transfers = new(StringComparer.Ordinal);
    private readonly Channel<(AccountSession Session, PeerSignalEvent Signal)> incoming =
        Channel.CreateUnbounded<(AccountSession, PeerSignalEvent)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<(string Key, Guid ToUserId, string? ToDeviceId, string Payload)> outgoing =
        Channel.CreateUnbounded<(string, Guid, string?, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private IJSObjectReference? module;
    private DotNetObjectReference<PeerTransfers>? self;
    private Task? receiving;
    private Task? sending;
    private Task? retrying;
    private int order;

    [Inject]
    private AccountManager Accounts { get; set; } = null!;

    [Inject]
    private TransferRequests Requests { get; set; } = null!;

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    [Inject]
    private IOptions<CallSettings> Settings { get; set; } = null!;

    [Inject]
    private ILogger<PeerTransfers> Logger { get; set; } = null!;

    public async ValueTask DisposeAsync()
    {
        Accounts.Changed -= OnAccountsChanged;
        Requests.Sender = null;
        foreach (var s in subscribed)
        {
            s.Calls.PeerSignalReceived -= OnSignal;
            s.PeerMessagesWaiting -= OnMessagesWaiting;
        }

        await stop.CancelAsync();
        incoming.Writer.TryComplete();
        outgoing.Writer.TryComplete();
        foreach (var loop in new[] { receiving, sending, retrying })
        {
            if (loop is not null)
            {
                await loop;
            }
        }

        if (module is not null)
        {
            try
            {
                await module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // The window is gone.
            }
        }

        self?.Dispose();
        stop.Dispose();
    }

    /// <summary>From the module: a signal for a device of another user (null: every device of theirs).</summary>
    [JSInvokable]
    public void Signal(string key, Guid toUserId, string? toDeviceId, string payload) =>
        outgoing.Writer.TryWrite((key, toUserId, toDeviceId, payload));

    /// <summary>From the module: a transfer started, progressed, or changed state.</summary>
    [JSInvokable]
    public Task TransferChanged(string key, TransferView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return InvokeAsync(() =>
        {
            if (!transfers.TryGetValue(view.Id, out var entry))
            {
                entry = new Entry(key, order++);
                transfers[view.Id] = entry;
            }

            entry.View = view;
            StateHasChanged();
        });
    }

    /// <summary>From the module: a message of a peer-to-peer conversation arrived; true once stored (it is acknowledged then).</summary>
    [JSInvokable]
    public async Task<bool> PeerMessage(string key, Guid fromUserId, PeerChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var stored = false;
        await InvokeAsync(() => stored = subscribed.FirstOrDefault(s => Key(s) == key) is { } s
            && Guid.TryParse(message.Id, out var id) && Guid.TryParse(message.ConversationId, out var conversationId)
            && s.ReceivePeerMessage(conversationId, fromUserId, id, message.Text, message.SentAt));
        return stored;
    }

    /// <summary>From the module: the other device stored one of this account's peer-to-peer messages.</summary>
    [JSInvokable]
    public Task PeerMessageDelivered(string key, string id) => InvokeAsync(() =>
    {
        if (subscribed.FirstOrDefault(s => Key(s) == key) is { } s && Guid.TryParse(id, out var messageId))
        {
            s.PeerMessageDelivered(messageId);
        }
    });

    /// <summary>From the module: a device of this user looked for this one (so it is online): deliver what waits for them.</summary>
    [JSInvokable]
    public Task PeerOnline(string key, Guid userId) => InvokeAsync(async () =>
    {
        if (subscribed.FirstOrDefault(s => Key(s) == key) is { } s)
        {
            await DeliverAsync(s, userId);
        }
    });

    protected override void OnInitialized()
    {
        Requests.Sender = SendAsync;
        Accounts.Changed += OnAccountsChanged;
        Subscribe();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            module = await JS.InvokeAsync<IJSObjectReference>("import", "./_content/ConnText.UI/peers.js");
            self = DotNetObjectReference.Create(this);
            receiving = ReceiveAsync();
            sending = SendSignalsAsync();
            retrying = RetryAsync();
        }
    }

    private void OnAccountsChanged(object? sender, EventArgs e) => _ = InvokeAsync(Subscribe);

    private void Subscribe()
    {
        foreach (var s in Accounts.Sessions)
        {
            if (subscribed.Add(s))
            {
                s.Calls.PeerSignalReceived += OnSignal;
                s.PeerMessagesWaiting += OnMessagesWaiting;
            }
        }
    }

    private void OnSignal(object? sender, PeerSignalEventArgs e)
    {
        var s = subscribed.FirstOrDefault(x => ReferenceEquals(x.Calls, sender));
        if (s is not null)
        {
            incoming.Writer.TryWrite((s, e.Signal));
        }
    }

    private void OnMessagesWaiting(object? sender, EventArgs e)
    {
        if (sender is AccountSession s)
        {
            _ = InvokeAsync(() => DeliverAsync(s, null));
        }
    }

    /// <summary>Hands the account's waiting peer-to-peer messages (for one user, or all) to the module.</summary>
    private async Task DeliverAsync(AccountSession s, Guid? onlyFor)
    {
        if (module is null)
        {
            return;
        }

        foreach (var group in s.PendingPeerMessages().Where(p => onlyFor is null || p.ToUserId == onlyFor).GroupBy(p => p.ToUserId))
        {
            try
            {
                await StartAccountAsync(s);
                var messages = group.Select(p => new PeerChatMessage(p.Entry.ClientMessageId.ToString("D"), p.Entry.ConversationId.ToString("D"), p.Entry.Text, p.Entry.CreatedAt));
                await module.InvokeAsync<int>("deliver", stop.Token, Key(s), group.Key, messages.ToArray());
            }
            catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException or JSException or TaskCanceledException)
            {
                LogTransferFailed(Logger, ex); // offline: the next round tries again
            }
        }
    }

    /// <summary>Every so often, what still waits goes again (the other side may have come online).</summary>
    private async Task RetryAsync()
    {
        using var timer = new PeriodicTimer(RetryEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await InvokeAsync(async () =>
                {
                    foreach (var s in subscribed)
                    {
                        await DeliverAsync(s, null);
                    }
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or JSDisconnectedException or ObjectDisposedException)
        {
            // The window closed.
        }
    }

    private async Task SendAsync(AccountSession s, Guid toUserId, Guid conversationId, ElementReference input)
    {
        if (module is null)
        {
            return;
        }

        try
        {
            await StartAccountAsync(s);
            await module.InvokeAsync<string?>("sendFromInput", Key(s), input, toUserId, conversationId);
        }
        catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException or JSException)
        {
            LogTransferFailed(Logger, ex);
        }
    }

    /// <summary>Gives the module the account's device id and (fresh) ICE servers, once and then every half hour.</summary>
    private async Task StartAccountAsync(AccountSession s)
    {
        if (started.TryGetValue(s, out var at) && DateTimeOffset.UtcNow - at < IceServersFor)
        {
            return;
        }

        var device = await s.Calls.DeviceIdAsync(stop.Token);
        var ice = await s.Calls.IceServersAsync(stop.Token);
        await module!.InvokeVoidAsync("init", Key(s), new { dotnet = self, selfDeviceId = device, iceServers = ice, relayOnly = Settings.Value.RelayOnly });
        started[s] = DateTimeOffset.UtcNow;
    }

    /// <summary>Signals in, one at a time and in arrival order (an answer must not overtake its offer).</summary>
    private async Task ReceiveAsync()
    {
        try
        {
            await foreach (var (s, signal) in incoming.Reader.ReadAllAsync(stop.Token))
            {
                await InvokeAsync(async () =>
                {
                    try
                    {
                        await StartAccountAsync(s);
                        await module!.InvokeVoidAsync("signal", Key(s), signal.FromUserId, signal.FromDeviceId, signal.Payload);
                    }
                    catch (Exception ex) when (ex is HubException or ApiException or HttpRequestException or InvalidOperationException or JSException)
                    {
                        LogTransferFailed(Logger, ex);
                    }
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or JSDisconnectedException or ObjectDisposedException)
        {
            // The window closed.
        }
    }

    /// <summary>Signals out, one at a time, in the order the module made them.</summary>
    private async Task SendSignalsAsync()
    {
        try
        {
            await foreach (var (key, toUserId, toDeviceId, payload) in outgoing.Reader.ReadAllAsync(stop.Token))
            {
                if (subscribed.FirstOrDefault(s => Key(s) == key) is not { } s)
                {
                    continue;
                }

                try
                {
                    await s.Calls.PeerSignalAsync(toUserId, toDeviceId, payload, stop.Token);
                }
                catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException)
                {
                    LogTransferFailed(Logger, ex); // offline, or refused: the transfer times out and says so
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window closed.
        }
    }

    private async Task CallAsync(Entry entry, string function)
    {
        try
        {
            await module!.InvokeVoidAsync(function, entry.Key, entry.View.Id);
        }
        catch (JSException ex)
        {
            LogTransferFailed(Logger, ex);
        }
    }

    private void Forget(Entry entry) => transfers.Remove(entry.View.Id);

    private string Describe(Entry entry)
    {
        var t = entry.View;
        var who = Who(entry);
        var percent = Percent(t);
        return (t.Direction, t.State) switch
        {
            ("out", "hashing") => $"Preparing: checking the file ({percent})…",
            ("out", "connecting") => $"Connecting to {who}…",
            ("out", "waiting") => $"Waiting for {who} to accept…",
            ("out", "sending") => $"Sending directly to {who} · {percent}",
            ("out", "resuming") => $"Resuming at {percent}…",
            ("out", "interrupted") => $"Connection lost at {percent}; reconnecting…",
            ("out", "verifying") => $"{who} is checking the file…",
            ("out", "done") => $"Sent directly to {who} ✓ SHA-256 verified{Resumed(t)}",
            ("out", "declined") => $"{who} declined",
            ("out", "unreachable") => $"{who} cannot be reached directly",
            ("out", "uploading") => "Uploading through the server…",
            ("out", "uploaded") => "Sent through the server",
            ("in", "offered") => $"{who} wants to send you this file directly",
            ("in", "receiving") => $"Receiving directly from {who} · {percent}",
            ("in", "interrupted") => $"Connection lost at {percent}; waiting for {who}…",
            ("in", "verifying") => "Checking the file…",
            ("in", "done") => $"Saved to {t.Path} ✓ SHA-256 verified{Resumed(t)}",
            (_, "cancelled") => "Cancelled",
            (_, "declined") => "Declined",
            _ => "Failed",
        };
    }

    private string Who(Entry entry)
    {
        var session = subscribed.FirstOrDefault(s => Key(s) == entry.Key);
        var conversation = session?.Store.Conversations().FirstOrDefault(c => c.Conversation.Members.Any(m => m.UserId == entry.View.UserId));
        return conversation is null ? "the other device" : Names.Member(conversation.Conversation, entry.View.UserId);
    }

    private static string Resumed(TransferView t) => t.Interruptions switch
    {
        0 => "",
        1 => " (resumed after a dropped connection)",
        var n => $" (resumed after {n} dropped connections)",
    };

    private static string Percent(TransferView t) =>
        t.Size == 0 ? "100%" : ((double)t.Done / t.Size).ToString("0%", CultureInfo.InvariantCulture);

    private static string Key(AccountSession s) => s.Account.Id.ToString("D");

    [LoggerMessage(Level = LogLevel.Warning, Message = "A direct transfer step failed")]
    private static partial void LogTransferFailed(ILogger logger, Exception exception);

    private sealed class Entry(string key, int order)
    {
        public string Key { get; } = key;

        public int Order { get; } = order;

        public TransferView View { get; set; } = null!;
    }
}
