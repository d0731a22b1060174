using System.Threading.Channels;
using ConnText.Client.Api;
using ConnText.Client.Auth;
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

    private readonly HubConnection hub;
    private readonly TokenKeeper tokens;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly TimeSpan pollInterval;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim syncGate = new(1, 1);
    private readonly SemaphoreSlim outboxGate = new(1, 1);
    private readonly SemaphoreSlim wake = new(0);
    private readonly Channel<EventAppendedEvent> pushed = Channel.CreateUnbounded<EventAppendedEvent>(new UnboundedChannelOptions { SingleReader = true });
    private TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool rejoin;
    private Task? running;
    private Task? applying;

    /// <summary>Opens the account's store in <paramref name="directory"/>; call <see cref="Start"/> to connect.</summary>
    public AccountSession(AccountInfo account, string directory, AccountSessionOptions options, ILogger logger)
    {
        Account = account;
        this.logger = logger;
        time = options.Time;
        pollInterval = options.PollInterval;
        tokens = new TokenKeeper(new TokenFile(Path.Combine(directory, "tokens.json")), new OAuthTokenClient(options.TokenHttp, account.Server, time), time);
        Api = new ConnTextApi(account.Server, tokens);
        Store = new LocalStore(Path.Combine(directory, "store.db"), account.UserId);
        hub = new HubConnectionBuilder()
            .WithUrl(new Uri(account.Server, "/hubs/realtime"), http => http.AccessTokenProvider = async () => await tokens.GetAccessTokenAsync(stop.Token))
            .WithAutomaticReconnect(new RetryForever())
            .Build();
        // Handlers only queue: the client runs them on its receive loop, where awaiting an invocation (Sync) would deadlock.
        hub.On<EventAppendedEvent>(RealtimeEvents.EventAppended, appended => { pushed.Writer.TryWrite(appended); });
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

    /// <summary>The account's local store.</summary>
    public LocalStore Store { get; }

    /// <summary>The connection state.</summary>
    public ConnectionState State { get; private set; } = ConnectionState.Connecting;

    /// <summary>The last problem worth showing (a refused message, a failed action), or <see langword="null"/>.</summary>
    public string? LastError { get; private set; }

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
        _ = FlushOutboxSafelyAsync();
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

    /// <summary>Creates a conversation and joins its realtime group.</summary>
    public async Task<ConversationResponse> CreateConversationAsync(CreateConversationRequest request, CancellationToken cancellationToken)
    {
        var created = await Api.CreateConversationAsync(request, cancellationToken);
        Store.UpsertConversation(created, created.LastSequence);
        RequestRejoin();
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
        wake.Dispose();
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
                rejoin = false;
                await CatchUpAsync(token);
                while (hub.State != HubConnectionState.Disconnected)
                {
                    await Task.WhenAny(closed.Task, wake.WaitAsync(pollInterval, token));
                    token.ThrowIfCancellationRequested();
                    if (hub.State == HubConnectionState.Connected && !rejoin)
                    {
                        await RefreshConversationsAsync(token);
                    }

                    if (rejoin && hub.State == HubConnectionState.Connected)
                    {
                        // The server puts a connection into its conversations' groups when it connects, and announces
                        // no new conversation yet: reconnecting joins the new one's group (the resume loses nothing).
                        await hub.StopAsync(token);
                    }
                }
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

    private void RequestRejoin()
    {
        rejoin = true;
        wake.Release();
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
        rejoin = false; // Connected just now: already in every group the list shows.
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

        var added = false;
        var changed = false;
        foreach (var conversation in fresh)
        {
            if (known.Contains(conversation.Id))
            {
                // A title, members or mute changed elsewhere: shown at once, not only with the next message.
                changed |= Store.UpsertConversation(conversation, conversation.LastSequence);
                continue;
            }

            // New here: start from the newest page of history; Sync brings anything after the listed sequence.
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

            added = true;
        }

        // Listed no more: left (on any device) or removed. Only conversations known before the listing started are
        // candidates, so one created meanwhile is not taken for a gone one.
        var listed = fresh.Select(c => c.Id).ToHashSet();
        var gone = known.Where(id => !listed.Contains(id)).ToList();
        gone.ForEach(Store.RemoveConversation);

        if (added)
        {
            rejoin = true;
            OnChanged();
        }
        else if (changed || gone.Count > 0)
        {
            OnChanged();
        }
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
        await foreach (var appended in pushed.Reader.ReadAllAsync(token))
        {
            await syncGate.WaitAsync(token);
            try
            {
                var stored = Store.Conversation(appended.ConversationId);
                if (stored is null || appended.Sequence <= stored.AppliedSequence)
                {
                    continue; // Unknown yet (the list refresh brings it), or already applied by a Sync.
                }

                if (appended.Sequence == stored.AppliedSequence + 1)
                {
                    Apply(appended, notify: true);
                    OnChanged();
                }
                else
                {
                    await SyncConversationAsync(appended.ConversationId, token); // A gap: something was missed.
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
            if (notify && appended.Kind == ConversationEventKinds.MessageCreated && message.SenderId != Account.UserId && message.Kind == MessageKinds.Text)
            {
                MessageReceived?.Invoke(this, new MessageEventArgs(this, message));
            }
        }

        Store.Applied(appended.ConversationId, appended.Sequence, appended.CreatedAt);
        if (appended.Kind is ConversationEventKinds.MemberJoined or ConversationEventKinds.MemberLeft)
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
            foreach (var entry in Store.Outbox())
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Could not {Action}")]
    private static partial void LogActionFailed(ILogger logger, string action, Exception exception);
}

/// <summary>Settings of an <see cref="AccountSession"/>.</summary>
public sealed class AccountSessionOptions
{
    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How often the conversation list is refreshed while connected (new conversations are not pushed yet).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The HTTP client for the token endpoint.</summary>
    public HttpClient TokenHttp { get; init; } = new();
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
