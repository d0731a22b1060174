using System.Net.WebSockets;
using System.Text;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Server.Tests.Realtime;

/// <summary>What one misbehaving connection can do to the others: nothing. Malformed frames, floods, a client that stops reading.</summary>
public abstract class HubLimitsTests(Provider provider) : IAsyncLifetime
{
    private const char RecordSeparator = '\u001e';
    private readonly List<IAsyncDisposable> owned = [];
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            // Small against the test's 1,500 events, yet room for a reading client to lag a moment on a busy machine
            // (at 10, Bob's own reading client fell behind and was dropped once in a loaded CI run).
            ["ConnText:Realtime:SendQueueLimit"] = "100",
            ["ConnText:Realtime:InvocationsPerSecond"] = "3",
            ["ConnText:Realtime:InvocationBurst"] = "3",
        });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        bobId = await bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var item in owned)
        {
            await item.DisposeAsync();
        }

        alice.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task MalformedFrames_CloseOnlyThatConnection_BadArguments_AreRefusedCalls()
    {
        var group = await alice.CreateGroupAsync("limits", bobId);
        var bobHub = await ConnectAsync(bob);

        // Not JSON at all: the server closes this connection.
        using var garbage = await RawConnectAsync(alice);
        await SendFrameAsync(garbage, "{\"type\":1,\"target\":\"SendMessage\",\"arguments\":[" + RecordSeparator);
        Assert.True(await ClosedByServerAsync(garbage), "the server kept a connection that sent a malformed frame");

        // Well-formed, but arguments of the wrong type: that call fails, the connection stays.
        using var wrongTypes = await RawConnectAsync(alice);
        await SendFrameAsync(wrongTypes,
            "{\"type\":1,\"invocationId\":\"1\",\"target\":\"SendMessage\",\"arguments\":[\"not-a-guid\",42,null,null]}" + RecordSeparator);
        var completion = await ReadFrameAsync(wrongTypes);
        Assert.Contains("\"invocationId\":\"1\"", completion, StringComparison.Ordinal);
        Assert.Contains("\"error\"", completion, StringComparison.Ordinal);
        Assert.Equal(WebSocketState.Open, wrongTypes.State);

        // The others never noticed.
        var sent = await bobHub.Connection.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "unharmed", null);
        Assert.Equal(sent.Sequence, (await HubClient.NextAsync(bobHub.Events)).Sequence);
    }

    [Fact]
    public async Task TooManyCalls_AreRefusedAsRateLimited_ConnectionStays()
    {
        var group = await alice.CreateGroupAsync("limits", bobId);
        var aliceHub = await ConnectAsync(alice);
        var refusals = 0;
        for (var i = 0; i < 8; i++)
        {
            try
            {
                await aliceHub.Connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L);
            }
            catch (HubException ex) when (ex.Message.Contains(ProblemTypes.RateLimited, StringComparison.Ordinal))
            {
                refusals++;
            }
        }

        Assert.InRange(refusals, 1, 5);
        Assert.Equal(HubConnectionState.Connected, aliceHub.Connection.State);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await aliceHub.Connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L);
    }

    [Fact]
    public async Task ClientThatStopsReading_IsDisconnected_OthersReceiveEverything()
    {
        var group = await alice.CreateGroupAsync("limits", bobId);
        var bobHub = await ConnectAsync(bob);
        // Bob's second device completes the handshake and then never reads again.
        using var stalled = await RawConnectAsync(bob);

        // Far more than fits in socket buffers plus a 100-event queue: about 24 MB of events.
        var text = new string('x', 16_000);
        const int count = 1500;
        var sends = Enumerable.Range(0, 4).Select(async worker =>
        {
            for (var i = worker; i < count; i += 4)
            {
                await alice.SendAsync(group.Id, $"{i} {text}");
            }
        });
        await Task.WhenAll(sends);

        var received = new HashSet<long>();
        try
        {
            while (received.Count < count)
            {
                received.Add((await HubClient.NextAsync(bobHub.Events)).Sequence);
            }
        }
        catch (OperationCanceledException)
        {
            // Say why, should it happen: the reading client closed (by the server for falling behind?) or just slow.
            var closed = bobHub.Closed.Task.IsCompleted ? $"was closed ({(await bobHub.Closed.Task)?.Message ?? "no error"})" : "is still open";
            Assert.Fail($"The reading client got {received.Count} of {count} events in time; its connection {closed}.");
        }

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), received.Order());
        Assert.True(await ClosedByServerAsync(stalled), "the server kept writing to a client that stopped reading");
    }

    private async Task<HubClient> ConnectAsync(HttpClient user)
    {
        var client = await HubClient.ConnectAsync(server.Address, user);
        owned.Add(client);
        return client;
    }

    /// <summary>A bare WebSocket that speaks the SignalR JSON handshake and nothing else, so the test controls every byte.</summary>
    private async Task<ClientWebSocket> RawConnectAsync(HttpClient user)
    {
        var token = user.DefaultRequestHeaders.Authorization!.Parameter!;
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        var uri = new UriBuilder(server.Address) { Scheme = "ws", Path = "/hubs/realtime" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        await SendFrameAsync(socket, "{\"protocol\":\"json\",\"version\":1}" + RecordSeparator);
        Assert.Equal("{}", await ReadFrameAsync(socket));
        return socket;
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next record that is neither a ping nor a server event.</summary>
    private static async Task<string> ReadFrameAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(HubClient.Wait);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
                await message.WriteAsync(buffer.AsMemory(0, result.Count), timeout.Token);
            }
            while (!result.EndOfMessage);

            // One frame may hold several records; pings (type 6) and server events (type 1) are not what we wait for.
            foreach (var record in Encoding.UTF8.GetString(message.ToArray()).Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (!record.StartsWith("{\"type\":6", StringComparison.Ordinal) && !record.StartsWith("{\"type\":1,", StringComparison.Ordinal))
                {
                    return record;
                }
            }
        }
    }

    /// <summary>
    /// Reads until the server closes (true) or nothing comes for 5 seconds (false: an open connection, whose
    /// keep-alive pings come every 15 seconds).
    /// </summary>
    private static async Task<bool> ClosedByServerAsync(ClientWebSocket socket)
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var result = await socket.ReceiveAsync(buffer, quiet.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }
            }
        }
        catch (WebSocketException)
        {
            return true; // closed without a close frame (aborted)
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

public sealed class SqliteHubLimitsTests() : HubLimitsTests(Provider.Sqlite);

public sealed class PostgresHubLimitsTests() : HubLimitsTests(Provider.Postgres);
