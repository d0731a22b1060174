using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Realtime;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Realtime;

public abstract class HubTests(Provider provider) : IAsyncLifetime
{
    private const string AllowedOrigin = "https://app.example.com";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private readonly List<HubConnection> connections = [];
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Realtime:AllowedOrigins:0"] = AllowedOrigin,
        });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        bobId = await bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        alice.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Connect_WithAccessToken_Works_Anonymous_IsRefused()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var (connection, _) = await ConnectAsync(alice);
        var page = await connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L);
        Assert.Empty(page.Items);

        var anonymous = Build(_ => { });
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Connect_WithAccessTokenInQueryString_WorksOnTheHubOnly()
    {
        var token = Token(alice);
        var connection = Build(o => o.Url = new Uri(server.Address, $"/hubs/realtime?access_token={Uri.EscapeDataString(token)}"));
        await connection.StartAsync();
        Assert.Equal(HubConnectionState.Connected, connection.State);

        // Elsewhere a token in the URL counts for nothing.
        using var anonymous = new HttpClient { BaseAddress = server.Address };
        using var response = await anonymous.GetAsync($"/api/v1/me?access_token={Uri.EscapeDataString(token)}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SendMessage_ViaHub_ArrivesAtOtherMembersConnection_WithItsSequence()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var (aliceHub, aliceEvents) = await ConnectAsync(alice);
        var (_, bobEvents) = await ConnectAsync(bob);

        var clientMessageId = Guid.NewGuid();
        var sent = await aliceHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, clientMessageId, "hello over the hub", null);
        Assert.Equal(1, sent.Sequence);
        Assert.Equal("hello over the hub", sent.Text);

        var received = await bobEvents.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(group.Id, received.ConversationId);
        Assert.Equal(sent.Sequence, received.Sequence);
        Assert.Equal(ConversationEventKinds.MessageCreated, received.Kind);
        Assert.Equal(sent.Id, received.Message!.Id);
        Assert.Equal("hello over the hub", received.Message.Text);
        Assert.Equal(sent.Sequence, (await aliceEvents.ReadAsync().AsTask().WaitAsync(Wait)).Sequence);

        // A retry is stored once: same message, no new sequence, no new event.
        var retried = await aliceHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, clientMessageId, "hello over the hub", null);
        Assert.Equal(sent.Id, retried.Id);
        Assert.Equal(1, (await bob.EventsAsync(group.Id, after: 0)).LastSequence);

        var page = await aliceHub.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L);
        Assert.Equal(sent.Id, Assert.Single(page.Items).MessageId);
    }

    [Fact]
    public async Task MessagePackProtocol_SendsAndReceives()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var token = Token(bob);
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, "/hubs/realtime"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .AddMessagePackProtocol()
            .Build();
        connections.Add(connection);
        var events = Channel.CreateUnbounded<EventAppendedEvent>();
        connection.On<EventAppendedEvent>("EventAppended", e => events.Writer.TryWrite(e));
        await connection.StartAsync();
        await HubClient.ReadyAsync(connection); // pushes sent from here on reach it

        var sent = await alice.SendAsync(group.Id, "packed");
        var received = await events.Reader.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal((group.Id, sent.Sequence, "packed"), (received.ConversationId, received.Sequence, received.Message!.Text));
        var own = await connection.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "packed back", null);
        Assert.Equal(sent.Sequence + 1, own.Sequence);
        var page = await connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L);
        Assert.Equal(2, page.Items.Count);
    }

    [Fact]
    public async Task RestSendAndReaction_ArriveAtHubClients()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var (_, bobEvents) = await ConnectAsync(bob);

        var sent = await alice.SendAsync(group.Id, "hello over REST");
        var created = await bobEvents.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal((sent.Sequence, sent.Id), (created.Sequence, created.MessageId!.Value));

        using var reacted = await alice.PutAsync(MessagingClient.Reaction(group.Id, sent.Id, "👍"), null);
        Assert.Equal(HttpStatusCode.OK, reacted.StatusCode);
        var reaction = await bobEvents.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal((2L, ConversationEventKinds.ReactionAdded, "👍"), (reaction.Sequence, reaction.Kind, reaction.Emoji));
    }

    [Fact]
    public async Task MemberAddedAndRemoved_WhileConnected_StartsAndStopsReceiving()
    {
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var group = await alice.CreateGroupAsync("hub", await carol.MyIdAsync());
        var (_, bobEvents) = await ConnectAsync(bob);

        using (var added = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/members", new AddMemberRequest(bobId)))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        var joined = await bobEvents.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal((ConversationEventKinds.MemberJoined, bobId), (joined.Kind, joined.SubjectUserId!.Value));
        Assert.Equal(joined.MessageId, joined.Message!.Id);
        var sent = await alice.SendAsync(group.Id, "welcome");
        Assert.Equal(sent.Sequence, (await bobEvents.ReadAsync().AsTask().WaitAsync(Wait)).Sequence);

        using (var removed = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/members/{bobId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        var left = await bobEvents.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal((ConversationEventKinds.MemberLeft, bobId), (left.Kind, left.SubjectUserId!.Value));
        var after = await alice.SendAsync(group.Id, "bob is gone");
        // Carol (a member) sees it; bob's connection no longer does.
        Assert.Equal(after.Sequence, (await carol.EventsAsync(group.Id, after: after.Sequence - 1)).Items.Single().Sequence);
        await Task.Delay(300);
        Assert.False(bobEvents.TryRead(out var leaked), $"bob received {leaked?.Kind} {leaked?.Sequence} after leaving");
    }

    [Fact]
    public async Task NonMember_CannotSendOrSync_OthersUnaffected()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var (carolHub, carolEvents) = await ConnectAsync(carol);
        var (_, bobEvents) = await ConnectAsync(bob);

        var send = await Assert.ThrowsAsync<HubException>(() =>
            carolHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "let me in", null));
        AssertProblem(send, ProblemTypes.NotFound + ": ");
        var sync = await Assert.ThrowsAsync<HubException>(() => carolHub.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L));
        AssertProblem(sync, ProblemTypes.NotFound + ": ");

        var invalid = await Assert.ThrowsAsync<HubException>(() =>
            carolHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "   ", null));
        AssertProblem(invalid, ProblemTypes.Validation + ": text: ");

        // Carol's connection survives her refusals; bob's gets the next event, carol's nothing.
        Assert.Equal(HubConnectionState.Connected, carolHub.State);
        var sent = await alice.SendAsync(group.Id, "members only");
        Assert.Equal(sent.Sequence, (await bobEvents.ReadAsync().AsTask().WaitAsync(Wait)).Sequence);
        Assert.Equal(0, (await alice.EventsAsync(group.Id, after: 0)).Items.Count(e => e.ActorId != sent.SenderId));
        Assert.False(carolEvents.TryRead(out _));
    }

    [Fact]
    public async Task OversizedHubMessage_ClosesOnlyThatConnection()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var (aliceHub, _) = await ConnectAsync(alice);
        var (bobHub, bobEvents) = await ConnectAsync(bob);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        aliceHub.Closed += e =>
        {
            closed.TrySetResult(e);
            return Task.CompletedTask;
        };

        // Past the frame limit for the default 16,384-character messages (100 KiB).
        var huge = new string('x', 110 * 1024);
        await Assert.ThrowsAnyAsync<Exception>(() => aliceHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), huge, null));
        await closed.Task.WaitAsync(Wait);
        Assert.Equal(HubConnectionState.Disconnected, aliceHub.State);

        Assert.Equal(HubConnectionState.Connected, bobHub.State);
        var sent = await bobHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "still here", null);
        Assert.Equal(1, sent.Sequence);
        Assert.Equal(sent.Sequence, (await bobEvents.ReadAsync().AsTask().WaitAsync(Wait)).Sequence);
    }

    [Fact]
    public async Task LongestAllowedMessage_InNonAsciiText_FitsInOneHubMessage()
    {
        var group = await alice.CreateGroupAsync("hub", bobId);
        var (aliceHub, _) = await ConnectAsync(alice);
        // 16,384 characters that JSON clients escape as \uXXXX: about 98 KiB on the wire.
        var text = new string('\u00e9', 16_384);
        var sent = await aliceHub.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), text, null);
        Assert.Equal(text, sent.Text);
        Assert.Equal(HubConnectionState.Connected, aliceHub.State);
    }

    [Fact]
    public async Task ForeignOrigin_IsRefused_ConfiguredOrigin_IsAccepted()
    {
        var token = Token(alice);
        var foreign = Build(o =>
        {
            o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            o.Headers["Origin"] = "https://evil.example";
        });
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => foreign.StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // The WebSocket handshake itself is checked too, not only the negotiation.
        var skipNegotiation = Build(o =>
        {
            o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            o.Headers["Origin"] = "https://evil.example";
            o.SkipNegotiation = true;
            o.Transports = HttpTransportType.WebSockets;
        });
        await Assert.ThrowsAnyAsync<Exception>(() => skipNegotiation.StartAsync());

        var allowed = Build(o =>
        {
            o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            o.Headers["Origin"] = AllowedOrigin;
        });
        await allowed.StartAsync();
        Assert.Equal(HubConnectionState.Connected, allowed.State);
    }

    /// <summary>
    /// SignalR prefixes a HubException's message ("An unexpected error occurred invoking 'X' on the server.
    /// HubException: …"); the part after "HubException: " is ours: "{problem type}: {detail}".
    /// </summary>
    private static void AssertProblem(HubException exception, string expectedStart)
    {
        const string marker = "HubException: ";
        var index = exception.Message.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(index >= 0 && exception.Message[(index + marker.Length)..].StartsWith(expectedStart, StringComparison.Ordinal), exception.Message);
    }

    private static string Token(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    private HubConnection Build(Action<HttpConnectionOptions> configure)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, "/hubs/realtime"), configure)
            .Build();
        connections.Add(connection);
        return connection;
    }

    private async Task<(HubConnection Connection, ChannelReader<EventAppendedEvent> Events)> ConnectAsync(HttpClient user)
    {
        var token = Token(user);
        var connection = Build(o => o.AccessTokenProvider = () => Task.FromResult<string?>(token));
        var events = Channel.CreateUnbounded<EventAppendedEvent>();
        connection.On<EventAppendedEvent>("EventAppended", e => events.Writer.TryWrite(e));
        await connection.StartAsync();
        await HubClient.ReadyAsync(connection); // pushes sent from here on reach it
        return (connection, events.Reader);
    }
}

public sealed class SqliteHubTests() : HubTests(Provider.Sqlite);

public sealed class PostgresHubTests() : HubTests(Provider.Postgres);
