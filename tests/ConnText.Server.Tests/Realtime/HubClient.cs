using System.Threading.Channels;
using ConnText.Contracts.Realtime;
using ConnText.Contracts.Conversations;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Server.Tests.Realtime;

/// <summary>A real SignalR client of the realtime hub that records every server event it receives, by kind.</summary>
public sealed class HubClient : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private HubClient(HubConnection connection) => Connection = connection;

    public HubConnection Connection { get; }

    public Channel<EventAppendedEvent> Events { get; } = Channel.CreateUnbounded<EventAppendedEvent>();

    public Channel<TypingEvent> Typing { get; } = Channel.CreateUnbounded<TypingEvent>();

    public Channel<ReadReceiptEvent> Receipts { get; } = Channel.CreateUnbounded<ReadReceiptEvent>();

    public Channel<PresenceChangedEvent> Presence { get; } = Channel.CreateUnbounded<PresenceChangedEvent>();

    public Channel<ConversationAddedEvent> Added { get; } = Channel.CreateUnbounded<ConversationAddedEvent>();

    public Channel<ConversationRemovedEvent> Removed { get; } = Channel.CreateUnbounded<ConversationRemovedEvent>();

    public TaskCompletionSource<Exception?> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<HubClient> ConnectAsync(Uri server, string token)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server, "/hubs/realtime"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var client = new HubClient(connection);
        connection.On<EventAppendedEvent>("EventAppended", e => client.Events.Writer.TryWrite(e));
        connection.On<TypingEvent>("Typing", e => client.Typing.Writer.TryWrite(e));
        connection.On<ReadReceiptEvent>("ReadReceipt", e => client.Receipts.Writer.TryWrite(e));
        connection.On<PresenceChangedEvent>("PresenceChanged", e => client.Presence.Writer.TryWrite(e));
        connection.On<ConversationAddedEvent>("ConversationAdded", e => client.Added.Writer.TryWrite(e));
        connection.On<ConversationRemovedEvent>("ConversationRemoved", e => client.Removed.Writer.TryWrite(e));
        connection.Closed += e =>
        {
            client.Closed.TrySetResult(e);
            return Task.CompletedTask;
        };
        await connection.StartAsync();
        return client;
    }

    /// <summary>
    /// Returns once the hub has registered the connection and read its memberships. The handshake completes before
    /// that, and an event stored in between reaches the client only through Sync (as the app does after every
    /// connect). The hub answers invocations only afterwards: once one is answered (here refused: no such
    /// conversation), every later push arrives. Costs one hub call of the connection's budget.
    /// </summary>
    public Task ReadyAsync() => ReadyAsync(Connection);

    /// <inheritdoc cref="ReadyAsync()"/>
    public static async Task ReadyAsync(HubConnection connection)
    {
        try
        {
            await connection.InvokeAsync<ConversationEventPageResponse>("Sync", Guid.NewGuid(), 0L);
        }
        catch (HubException)
        {
            return;
        }

        throw new InvalidOperationException("Sync of a conversation that does not exist was answered.");
    }

    public static Task<HubClient> ConnectAsync(Uri server, HttpClient signedIn) =>
        ConnectAsync(server, signedIn.DefaultRequestHeaders.Authorization!.Parameter!);

    /// <summary>The next item matching <paramref name="match"/>, skipping others; fails after <see cref="Wait"/>.</summary>
    public static async Task<T> NextAsync<T>(Channel<T> channel, Func<T, bool>? match = null)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var item = await channel.Reader.ReadAsync(timeout.Token);
            if (match is null || match(item))
            {
                return item;
            }
        }
    }

    /// <summary>Everything that arrives in <paramref name="quiet"/>: to show that nothing (more) comes.</summary>
    public static async Task<List<T>> DrainAsync<T>(Channel<T> channel, TimeSpan quiet)
    {
        await Task.Delay(quiet);
        var items = new List<T>();
        while (channel.Reader.TryRead(out var item))
        {
            items.Add(item);
        }

        return items;
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
