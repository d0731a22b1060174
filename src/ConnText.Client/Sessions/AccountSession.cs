using System.Collections.Concurrent;
using System.Threading.Channels;
using ConnText.Client.Api;
using ConnText.Client.Auth;
using ConnText.Client.Devices;
using ConnText.Client.Calls;
using ConnText.Client.Store;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace ConnText.Client.Sessions;

/// <summary>
/// The engine of one signed-in account: the realtime connection (reconnecting forever and resuming each conversation
/// from the last sequence applied), the local store, and the outbox that sends what was written offline, in order and
/// with its client ids, once the connection is back.
/// </summary>
public sealed partial class AccountSession : IAsyncDisposable
{
    /// <summary>How many messages a conversation shows at first and loads per step back.</summary>
    public const int PageSize = 50;

    private static readonly TimeSpan TypingInterval = TimeSpan.FromSeconds(2);

    private readonly HubConnection hub;
    private readonly TokenKeeper tokens;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim syncGate = new(1, 1);
    private readonly SemaphoreSlim outboxGate = new(1, 1);
    // Pushed events that touch the store, applied one at a time in the order they arrived.
    private readonly Channel<object> pushed = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(Guid Conversation, Guid User), DateTimeOffset> typing = new();
    private readonly ConcurrentDictionary<Guid, PresenceChangedEvent> presence = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> typingSent = new();
    private readonly DeviceIdentity? device;
    private TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool deviceRegistered;
    private Task? running;
    private Task? applying;

    /// <summary>Opens the account's store in <paramref name="directory"/>; call <see cref="Start"/> to connect.</summary>
    public AccountSession(AccountInfo account, string directory, AccountSessionOptions options, ILogger logger)
    {
        Account = account;
        this.logger = logger;
        time = options.Time;
        device = options.Device;
        outgoingFilter = options.OutgoingFilter;
        tokens = new TokenKeeper(new TokenFile(Path.Combine(directory, "tokens.json")), new OAuthTokenClient(options.TokenHttp, account.Server, time), time);
        Api = new ConnTextApi(account.Server, tokens);
        Store = new LocalStore(Path.Combine(directory, "store.db"), account.UserId);
        hub = new HubConnectionBuilder()
            .WithUrl(new Uri(account.Server, "/hubs/realtime"), http => http.AccessTokenProvider = async () => await tokens.GetAccessTokenAsync(stop.Token))
            .WithAutomaticReconnect(new RetryForever())
            .Build();
        // Handlers only queue: the client runs them on its receive loop, where awaiting an invocation (Sync) would deadlock.
        hub.On<EventAppendedEvent>(RealtimeEvents.EventAppended, appended => { pushed.Writer.TryWrite(appended); });
        hub.On<ConversationAddedEvent>(RealtimeEvents.ConversationAdded, added => { pushed.Writer.TryWrite(added); });
        hub.On<ConversationRemovedEvent>(RealtimeEvents.ConversationRemoved, removed => { pushed.Writer.TryWrite(removed); });
        hub.On<ReadReceiptEvent>(RealtimeEvents.ReadReceipt, receipt => { pushed.Writer.TryWrite(receipt); });
        hub.On<ConversationSettingsChangedEvent>(RealtimeEvents.ConversationSettingsChanged, settings => { pushed.Writer.TryWrite(settings); });
        hub.On<TypingEvent>(RealtimeEvents.TypingEvent, OnTyping);
        hub.On<PresenceChangedEvent>(RealtimeEvents.PresenceChanged, changed =>
        {
            presence[changed.UserId] = changed;
            OnChanged();
        });
        Calls = new CallClient(hub, Api, account.UserId);
        hub.Reconnecting += _ =>
        {
            SetState(ConnectionState.Reconnecting);
            return Task.CompletedTask;
        };
        hub.Reconnected += _ =>
        {
            // Not awaited: the client waits for this handler before it dispatches anything, Sync's results included.
            Task.Run(CatchUpSafelyAsync);
            return Task.CompletedTask;
        };
        hub.Closed += _ =>
        {
            SetState(ConnectionState.Offline);
            closed.TrySetResult();
            return Task.CompletedTask;
        };
    }

    /// <summary>Raised (on any thread) after anything shown changed: state, conversations, messages, outbox.</summary>
    public event EventHandler? Changed;

    /// <summary>Raised for each new message from someone else (not for history or the user's own).</summary>
    public event EventHandler<MessageEventArgs>? MessageReceived;

    /// <summary>The account.</summary>
    public AccountInfo Account { get; private set; }

    /// <summary>The typed REST client of the account.</summary>
    public ConnTextApi Api { get; }

    /// <summary>Calls and their signaling over this account's connection.</summary>
    public CallClient Calls { get; }

    /// <summary>The account's local store.</summary>
    public LocalStore Store { get; }

    /// <summary>The connection state.</summary>
    public ConnectionState State { get; private set; } = ConnectionState.Connecting;

    /// <summary>The last problem worth showing (a refused message, a failed action), or <see langword="null"/>.</summary>
    public string? LastError { get; private set; }

    /// <summary>The members typing in a conversation right now (never the user).</summary>
    public IReadOnlyList<Guid> TypingIn(Guid conversationId)
    {
        var now = time.GetUtcNow();
        return [.. typing.Where(t => t.Key.Conversation == conversationId && t.Value > now).Select(t => t.Key.User)];
    }

    /// <summary>A user's presence as last heard (<c>online</c>, <c>away</c>, <c>offline</c>), or <see langword="null"/> if unknown.</summary>
    public PresenceChangedEvent? PresenceOf(Guid userId) => presence.GetValueOrDefault(userId);

    /// <summary>
    /// Tells the conversation's members that the user is typing: at most every 2 s per conversation (the server
    /// throttles as well), best effort, dropped while offline.
    /// </summary>
    public void Typing(Guid conversationId)
    {
        var now = time.GetUtcNow();
        if (hub.State != HubConnectionState.Connected
            || (typingSent.TryGetValue(conversationId, out var last) && now - last < TypingInterval))
        {
            return;
        }

        typingSent[conversationId] = now;
        _ = SendTypingAsync(conversationId);
    }

    /// <summary>Starts connecting in the background; returns at once.</summary>
    public void Start()
    {
        running ??= Task.Run(RunAsync);
        applying ??= Task.Run(ApplyPushedAsync);
    }

    /// <summary>
    /// Writes a message: it goes to the outbox first (so it survives going offline or a restart), then is sent as soon
    /// as the connection allows, in the order written.
    /// </summary>
    public Guid Send(Guid conversationId, string text, Guid? replyToMessageId = null)
    {
        var entry = new OutboxEntry(conversationId, Guid.NewGuid(), text, replyToMessageId, time.GetUtcNow());
        Store.Enqueue(entry);
        OnChanged();
        if (IsPeerToPeer(conversationId))
        {
            PeerMessagesWaiting?.Invoke(this, EventArgs.Empty); // the window's data channels take it, never the hub
        }
        else
        {
            _ = FlushOutboxSafelyAsync();
        }

        return entry.ClientMessageId;
    }

    /// <summary>Edits one of the user's messages (online only).</summary>
    public async Task EditAsync(Guid conversationId, Guid messageId, string text, CancellationToken cancellationToken)
    {
        var edited = await Api.EditMessageAsync(conversationId, messageId, text, cancellationToken);
        Store.UpsertMessage(edited);
        OnChanged();
    }

    /// <summary>Deletes a message (online only).</summary>
    public Task DeleteAsync(Guid conversationId, Guid messageId, CancellationToken cancellationToken) =>
        Api.DeleteMessageAsync(conversationId, messageId, cancellationToken);

    /// <summary>Toggles the user's reaction <paramref name="emoji"/> on a message (online only).</summary>
    public Task ToggleReactionAsync(MessageResponse message, string emoji, CancellationToken cancellationToken)
    {
        var mine = message.Reactions.Any(r => r.Emoji == emoji && r.Mine);
        return Api.ReactAsync(message.ConversationId, message.Id, emoji, add: !mine, cancellationToken);
    }

    /// <summary>Creates a conversation (the server puts this account's connections into it and announces it).</summary>
    public async Task<ConversationResponse> CreateConversationAsync(CreateConversationRequest request, CancellationToken cancellationToken)
    {
        var created = await Api.CreateConversationAsync(request, cancellationToken);
        await syncGate.WaitAsync(cancellationToken);
        try
        {
            if (Store.Conversation(created.Id) is null) // A direct conversation that existed already is here.
            {
                await AddConversationAsync(created, cancellationToken);
            }
        }
        finally
        {
            syncGate.Release();
        }

        OnChanged();
        return created;
    }

    /// <summary>Loads the page of history before the oldest stored message; returns false when there is no more.</summary>
    public async Task<bool> LoadOlderAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var page = await Api.HistoryAsync(conversationId, Store.OldestSequence(conversationId), PageSize, cancellationToken);
        foreach (var message in page.Items)
        {
            Store.UpsertMessage(message);
        }

        if (!page.HasMore)
        {
            Store.HistoryComplete(conversationId);
        }

        OnChanged();
        return page.HasMore;
    }

    /// <summary>Marks everything applied in the conversation as read, here and on the server (best effort when offline).</summary>
    public async Task MarkReadAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var stored = Store.Conversation(conversationId);
        if (stored is null || stored.Unread == 0)
        {
            return;
        }

        Store.SetLastRead(conversationId, stored.AppliedSequence);
        OnChanged();
        if (stored.Conversation.Kind == ConversationKinds.PeerToPeer)
        {
            return; // its messages are this device's own business: the server has no sequence for them
        }

        try
        {
            await Api.MarkReadAsync(conversationId, stored.AppliedSequence, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            LogActionFailed(logger, "mark read", ex); // The next read marker carries it.
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        pushed.Writer.TryComplete();
        try
        {
            await hub.DisposeAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Already closing.
        }

        foreach (var task in new[] { running, applying })
        {
            if (task is not null)
            {
                try
                {
                    await task;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        Api.Dispose();
        Store.Dispose();
        tokens.Dispose();
        stop.Dispose();
        syncGate.Dispose();
        outboxGate.Dispose();
    }

    private async Task RunAsync()
    {
        var token = stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await hub.StartAsync(token);
                await CatchUpAsync(token);
                // From here the client reconnects by itself (Reconnected catches up); only a close it gives up on comes back here.
                await closed.Task.WaitAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // whatever broke the connection, the loop reconnects; it is logged
            catch (Exception ex)
#pragma warning restore CA1031
            {
                SetState(ConnectionState.Offline);
                LogConnectFailed(logger, Account.Server, ex);
                if (ex is SignInRequiredException)
                {
                    LastError = "Signed out by the server: add the account again.";
                    OnChanged();
                    return;
                }

                try
                {
                    if (hub.State != HubConnectionState.Disconnected)
                    {
                        // Connected but the catch-up failed: start over from a clean connection.
                        await hub.StopAsync(token);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(2), time, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task CatchUpSafelyAsync()
    {
        // Retried while connected: a failed catch-up (the server still starting) must not leave the state "reconnecting".
        while (!stop.IsCancellationRequested && hub.State == HubConnectionState.Connected)
        {
            try
            {
                await CatchUpAsync(stop.Token);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // logged and retried
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogConnectFailed(logger, Account.Server, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), time, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>After (re)connecting: refresh the conversation list, resume each conversation, then send the outbox.</summary>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await RefreshConversationsAsync(cancellationToken);
        await syncGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var conversation in Store.Conversations())
            {
                await SyncConversationAsync(conversation.Conversation.Id, cancellationToken);
            }
        }
        finally
        {
            syncGate.Release();
        }

        SetState(ConnectionState.Online);
        await FlushOutboxAsync(cancellationToken);
        await RefreshPresenceAsync(Store.Conversations().SelectMany(c => c.Conversation.Members), cancellationToken);
        await RegisterDeviceAsync(cancellationToken);
    }

    /// <summary>Once per start: tells the server this session's device key (idempotent there).</summary>
    private async Task RegisterDeviceAsync(CancellationToken cancellationToken)
    {
        if (device is null || deviceRegistered)
        {
            return;
        }

        try
        {
            var registered = await Api.RegisterDeviceKeyAsync(device.Certificate, cancellationToken);
            deviceRegistered = true;
            LogDeviceRegistered(logger, Account.Server, registered.Fingerprint);
        }
        catch (ApiException ex) when (ex.Status == 409)
        {
            // The session has another key (this device's files were replaced): only a new sign-in can register it.
            deviceRegistered = true;
            LastError = "This device's identity changed since you signed in: remove and add the account again to register it.";
            OnChanged();
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            LogActionFailed(logger, "register the device key", ex); // Tried again after the next reconnect.
        }
    }

    /// <summary>
    /// Presence of these members as of now (everyone at connect, a new conversation's members when it arrives): the
    /// server sends changes only, so a state that did not change since would otherwise stay unknown.
    /// </summary>
    private async Task RefreshPresenceAsync(IEnumerable<ConversationMemberResponse> members, CancellationToken cancellationToken)
    {
        var others = members.Select(m => m.UserId).Where(id => id != Account.UserId).Distinct().ToList();
        try
        {
            foreach (var chunk in others.Chunk(100))
            {
                foreach (var state in await Api.GetPresenceAsync(chunk, cancellationToken))
                {
                    presence[state.UserId] = new PresenceChangedEvent(state.UserId, state.State, state.LastSeenAt);
                }
            }

            OnChanged();
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            LogActionFailed(logger, "load presence", ex); // Dots stay unknown until events arrive.
        }
    }

    private async Task RefreshConversationsAsync(CancellationToken cancellationToken)
    {
        var known = Store.Conversations().Select(c => c.Conversation.Id).ToHashSet();
        var fresh = new List<ConversationResponse>();
        for (var page = 1; ; page++)
        {
            var result = await Api.ListConversationsAsync(page, 100, cancellationToken);
            fresh.AddRange(result.Items);
            if (!result.HasMore)
            {
                break;
            }
        }

        foreach (var conversation in fresh)
        {
            if (known.Contains(conversation.Id))
            {
                // A title, members or mute changed elsewhere: stored (and shown by the OnChanged below).
                Store.UpsertConversation(conversation, conversation.LastSequence);
            }
            else
            {
                await AddConversationAsync(conversation, cancellationToken);
            }
        }

        // Listed no more: left (on any device) or removed while this device was away. Only conversations known
        // before the listing started are candidates, so one created meanwhile is not taken for a gone one.
        var listed = fresh.Select(c => c.Id).ToHashSet();
        foreach (var gone in known.Where(id => !listed.Contains(id)))
        {
            Store.RemoveConversation(gone);
        }

        OnChanged();
    }

    /// <summary>A conversation new here: start from the newest page of history; Sync brings anything after it.</summary>
    private async Task AddConversationAsync(ConversationResponse conversation, CancellationToken cancellationToken)
    {
        Store.UpsertConversation(conversation, conversation.LastSequence);
        var history = await Api.HistoryAsync(conversation.Id, null, PageSize, cancellationToken);
        foreach (var message in history.Items)
        {
            Store.UpsertMessage(message);
        }

        if (!history.HasMore)
        {
            Store.HistoryComplete(conversation.Id);
        }

        _ = RefreshPresenceAsync(conversation.Members, stop.Token);
    }

    private async Task SyncConversationAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var applied = Store.Conversation(conversationId)?.AppliedSequence ?? 0;
            var page = await hub.InvokeAsync<ConversationEventPageResponse>(RealtimeEvents.Sync, conversationId, applied, cancellationToken);
            foreach (var item in page.Items)
            {
                Apply(new EventAppendedEvent(conversationId, item.Sequence, item.Kind, item.ActorId, item.CreatedAt, item.MessageId,
                    item.Message, item.Emoji, item.SubjectUserId), notify: false);
            }

            if (!page.HasMore || page.Items.Count == 0)
            {
                break;
            }
        }

        OnChanged();
    }

    private async Task ApplyPushedAsync()
    {
        var token = stop.Token;
        await foreach (var item in pushed.Reader.ReadAllAsync(token))
        {
            await syncGate.WaitAsync(token);
            try
            {
                switch (item)
                {
                    case EventAppendedEvent appended:
                        await ApplyPushedEventAsync(appended, token);
                        break;
                    case ConversationAddedEvent added when Store.Conversation(added.ConversationId) is null:
                        // Already in its realtime group (the server put this connection there); events pushed before
                        // this point were skipped as unknown and are in the page fetched now.
                        var conversation = await Api.GetConversationAsync(added.ConversationId, token);
                        await AddConversationAsync(conversation, token);
                        await SyncConversationAsync(added.ConversationId, token);
                        AnnounceUnread(conversation);
                        break;
                    case ConversationSettingsChangedEvent settings when Store.Conversation(settings.ConversationId) is { } stored:
                        Store.UpsertConversation(stored.Conversation with { Muted = settings.Muted }, stored.AppliedSequence);
                        OnChanged();
                        break;
                    case ConversationRemovedEvent removed:
                        Store.RemoveConversation(removed.ConversationId);
                        OnChanged();
                        break;
                    case ReadReceiptEvent receipt when receipt.UserId == Account.UserId:
                        Store.SetLastRead(receipt.ConversationId, receipt.Sequence); // Read on another device.
                        OnChanged();
                        break;
                    case ReadReceiptEvent receipt:
                        Store.SetMemberRead(receipt.ConversationId, receipt.UserId, receipt.Sequence);
                        OnChanged();
                        break;
                }
            }
#pragma warning disable CA1031 // one event that cannot be applied must not stop the others; Sync repairs it later
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                LogConnectFailed(logger, Account.Server, ex);
            }
            finally
            {
                syncGate.Release();
            }
        }
    }

    /// <summary>
    /// A conversation that just arrived may already hold messages for the user (the first one often comes with it):
    /// they came with its history page, not as pushed events, yet they are new to the user.
    /// </summary>
    private void AnnounceUnread(ConversationResponse conversation)
    {
        foreach (var message in Store.Messages(conversation.Id, PageSize)
                     .Where(m => m.Sequence > conversation.LastReadSequence && m.SenderId != Account.UserId && m.Kind == MessageKinds.Text && m.DeletedAt is null)
                     .TakeLast(3))
        {
            MessageReceived?.Invoke(this, new MessageEventArgs(this, message));
        }
    }

    private async Task ApplyPushedEventAsync(EventAppendedEvent appended, CancellationToken cancellationToken)
    {
        var stored = Store.Conversation(appended.ConversationId);
        if (stored is null || appended.Sequence <= stored.AppliedSequence)
        {
            return; // Unknown yet (its ConversationAdded or the list refresh brings it), or already applied by a Sync.
        }

        if (appended.Sequence == stored.AppliedSequence + 1)
        {
            Apply(appended, notify: true);
            OnChanged();
        }
        else
        {
            await SyncConversationAsync(appended.ConversationId, cancellationToken); // A gap: something was missed.
        }
    }

    private void OnTyping(TypingEvent typed)
    {
        if (typed.UserId == Account.UserId)
        {
            return;
        }

        var expires = TimeSpan.FromMilliseconds(Math.Clamp(typed.ExpiresAfterMs, 0, 30_000));
        typing[(typed.ConversationId, typed.UserId)] = time.GetUtcNow() + expires;
        OnChanged();
        _ = ExpireTypingAsync(expires);
    }

    private async Task ExpireTypingAsync(TimeSpan after)
    {
        try
        {
            await Task.Delay(after + TimeSpan.FromMilliseconds(50), time, stop.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var now = time.GetUtcNow();
        foreach (var expired in typing.Where(t => t.Value <= now).ToList())
        {
            typing.TryRemove(expired);
        }

        OnChanged();
    }

    private async Task SendTypingAsync(Guid conversationId)
    {
        try
        {
            await hub.InvokeAsync(RealtimeEvents.Typing, conversationId, stop.Token);
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException or OperationCanceledException)
        {
            LogActionFailed(logger, "send typing", ex); // Ephemeral: nothing to retry.
        }
    }

    private void Apply(EventAppendedEvent appended, bool notify)
    {
        if (appended.Message is { } message)
        {
            // The pushed message's "mine" flags are the actor's; keep ours unless we are the actor.
            if (appended.ActorId != Account.UserId && Store.Message(message.Id) is { } previous)
            {
                message = message with
                {
                    Reactions = [.. message.Reactions.Select(r => r with { Mine = previous.Reactions.Any(p => p.Emoji == r.Emoji && p.Mine) })],
                };
            }
            else if (appended.ActorId != Account.UserId)
            {
                message = message with { Reactions = [.. message.Reactions.Select(r => r with { Mine = false })] };
            }

            Store.UpsertMessage(message);
            if (appended.Kind == ConversationEventKinds.MessageCreated && message.SenderId is { } sender)
            {
                typing.TryRemove((appended.ConversationId, sender), out _); // Their message ends their typing.
            }

            if (notify && appended.Kind == ConversationEventKinds.MessageCreated && message.SenderId != Account.UserId && message.Kind == MessageKinds.Text)
            {
                MessageReceived?.Invoke(this, new MessageEventArgs(this, message));
            }
        }

        Store.Applied(appended.ConversationId, appended.Sequence, appended.CreatedAt);
        if (appended.Kind is ConversationEventKinds.MemberJoined or ConversationEventKinds.MemberLeft
            or ConversationEventKinds.MemberRoleChanged or ConversationEventKinds.ConversationUpdated)
        {
            _ = RefreshConversationSafelyAsync(appended.ConversationId);
        }
    }

    private async Task RefreshConversationSafelyAsync(Guid conversationId)
    {
        try
        {
            var conversation = await Api.GetConversationAsync(conversationId, stop.Token);
            Store.UpsertConversation(conversation, conversation.LastSequence);
            OnChanged();
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or OperationCanceledException)
        {
            LogActionFailed(logger, "refresh conversation", ex);
        }
    }

    private async Task FlushOutboxSafelyAsync()
    {
        try
        {
            await FlushOutboxAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends the outbox in order; stops at the first failure that is the connection's (the next reconnect resumes).</summary>
    private async Task FlushOutboxAsync(CancellationToken cancellationToken)
    {
        await outboxGate.WaitAsync(cancellationToken);
        try
        {
            var peerToPeer = Store.Conversations().Where(c => c.Conversation.Kind == ConversationKinds.PeerToPeer).Select(c => c.Conversation.Id).ToHashSet();
            foreach (var entry in Store.Outbox().Where(e => !peerToPeer.Contains(e.ConversationId)))
            {
                if (hub.State != HubConnectionState.Connected)
                {
                    return;
                }

                try
                {
                    var stored = await hub.InvokeAsync<MessageResponse>(RealtimeEvents.SendMessage,
                        entry.ConversationId, entry.ClientMessageId, entry.Text, entry.ReplyToMessageId, cancellationToken);
                    Store.UpsertMessage(stored);
                    Store.Dequeue(entry.ClientMessageId);
                }
                catch (HubException ex)
                {
                    // Refused (not a member any more, too long...): retrying would be refused again.
                    Store.Dequeue(entry.ClientMessageId);
                    LastError = "A message was not sent: " + ex.Message[(ex.Message.LastIndexOf(": ", StringComparison.Ordinal) + 2)..];
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or TaskCanceledException or System.Net.WebSockets.WebSocketException)
                {
                    LogActionFailed(logger, "send", ex);
                    return; // The connection went; the message stays queued with its client id.
                }

                OnChanged();
            }
        }
        finally
        {
            outboxGate.Release();
        }
    }

    private void SetState(ConnectionState state)
    {
        if (State != state)
        {
            State = state;
            OnChanged();
        }
    }

    private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Server} failed or dropped")]
    private static partial void LogConnectFailed(ILogger logger, Uri server, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device key registered with {Server}: {Fingerprint}")]
    private static partial void LogDeviceRegistered(ILogger logger, Uri server, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Could not {Action}")]
    private static partial void LogActionFailed(ILogger logger, string action, Exception exception);
}

/// <summary>Settings of an <see cref="AccountSession"/>.</summary>
public sealed class AccountSessionOptions
{
    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>This device's identity, registered with each account's server once connected; none when null.</summary>
    public DeviceIdentity? Device { get; init; }

    /// <summary>The HTTP client for the token endpoint.</summary>
    public HttpClient TokenHttp { get; init; } = new();

    /// <summary>Sees each message <see cref="AccountSession.SendAsync"/> writes before the outbox (the desktop's plugins).</summary>
    public IOutgoingFilter? OutgoingFilter { get; init; }
}

/// <summary>Names of the hub's methods and events (docs/protocol.md).</summary>
public static class RealtimeEvents
{
    /// <summary>Server-to-client: a sequenced event was committed.</summary>
    public const string EventAppended = "EventAppended";

    /// <summary>Client-to-server: send a message.</summary>
    public const string SendMessage = "SendMessage";

    /// <summary>Client-to-server: events after a sequence.</summary>
    public const string Sync = "Sync";

    /// <summary>Client-to-server: the user is typing in a conversation.</summary>
    public const string Typing = "Typing";

    /// <summary>Server-to-client: a member is typing.</summary>
    public const string TypingEvent = "Typing";

    /// <summary>Server-to-client: a member's read marker moved.</summary>
    public const string ReadReceipt = "ReadReceipt";

    /// <summary>Server-to-client: a user's presence changed.</summary>
    public const string PresenceChanged = "PresenceChanged";

    /// <summary>Server-to-client: the user became a member of a conversation.</summary>
    public const string ConversationAdded = "ConversationAdded";

    /// <summary>Server-to-client: the user is no longer a member of a conversation.</summary>
    public const string ConversationRemoved = "ConversationRemoved";

    /// <summary>Server-to-client: the user's settings of a conversation (mute) changed on some device.</summary>
    public const string ConversationSettingsChanged = "ConversationSettingsChanged";
}

/// <summary>A new message from someone else in one of the accounts.</summary>
public sealed class MessageEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public MessageEventArgs(AccountSession session, MessageResponse message)
    {
        Session = session;
        Message = message;
    }

    /// <summary>The account it arrived in.</summary>
    public AccountSession Session { get; }

    /// <summary>The message.</summary>
    public MessageResponse Message { get; }
}
