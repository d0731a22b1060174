using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace ConnText.Server.Tests.Realtime;

/// <summary>
/// Two server processes on one PostgreSQL database and one Redis (both started by scripts/test.sh): what happens on
/// one node reaches clients of the other, and sequences stay gapless with senders on both.
/// </summary>
public sealed class TwoNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string RedisVariable = "CONNTEXT_TEST_REDIS";
    private readonly List<IAsyncDisposable> owned = [];
    private TestDatabase database = null!;
    private ServerNode nodeA = null!;
    private ServerNode nodeB = null!;

    public async Task InitializeAsync()
    {
        var redis = Environment.GetEnvironmentVariable(RedisVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{RedisVariable} is not set. Run the tests with scripts/test.sh, which starts a throwaway Redis.");
        database = await TestDatabase.CreateAsync(Provider.Postgres);
        // Behind a load balancer both nodes answer for one public URL, which is their tokens' issuer.
        var settings = new Dictionary<string, string?> { ["ConnText:Redis"] = redis, ["ConnText:Auth:Issuer"] = "http://chat.example.test/" };
        // One after the other: the first applies the migrations.
        nodeA = await ServerNode.StartAsync(database, settings);
        nodeB = await ServerNode.StartAsync(database, settings);
    }

    public async Task DisposeAsync()
    {
        foreach (var item in owned)
        {
            await item.DisposeAsync();
        }

        // The nodes' own logs (warnings and errors) help when a cross-node step fails.
        output.WriteLine($"node A:\n{nodeA.Output}\nnode B:\n{nodeB.Output}");
        await nodeA.DisposeAsync();
        await nodeB.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task MessagesTypingPresenceAndMembership_CrossNodes()
    {
        await SignedInUsers.RegisterAsync(nodeA.Address, "alice");
        await SignedInUsers.RegisterAsync(nodeB.Address, "bob");
        await SignedInUsers.RegisterAsync(nodeA.Address, "carol");
        using var alice = await SignedInUsers.SignInAsync(nodeA.Address, "alice");
        using var bob = await SignedInUsers.SignInAsync(nodeB.Address, "bob");
        using var carol = await SignedInUsers.SignInAsync(nodeB.Address, "carol");
        var aliceId = await alice.MyIdAsync();
        var bobId = await bob.MyIdAsync();
        var carolId = await carol.MyIdAsync();

        var aliceHub = await ConnectAsync(nodeA, alice);
        var bobHub = await ConnectAsync(nodeB, bob);
        var carolHub = await ConnectAsync(nodeB, carol);

        // A conversation created on A is announced to bob on B, and its messages follow.
        var group = await alice.CreateGroupAsync("two nodes", bobId);
        Assert.Equal(group.Id, (await HubClient.NextAsync(bobHub.Added)).ConversationId);
        var sent = await aliceHub.Connection.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "from node A", null);
        var received = await HubClient.NextAsync(bobHub.Events);
        Assert.Equal((sent.Id, "from node A"), (received.MessageId!.Value, received.Message!.Text));

        // And back: bob sends on B, alice receives on A.
        var reply = await bobHub.Connection.InvokeAsync<MessageResponse>("SendMessage", group.Id, Guid.NewGuid(), "from node B", null);
        Assert.Equal(reply.Sequence, (await HubClient.NextAsync(aliceHub.Events, e => e.Sequence == reply.Sequence)).Sequence);

        // Typing on A reaches B.
        await aliceHub.Connection.InvokeAsync("Typing", group.Id);
        Assert.Equal(aliceId, (await HubClient.NextAsync(bobHub.Typing)).UserId);

        // Presence is shared through Redis: bob (connected to B) is online when asked on A, and goes offline there.
        var onA = await alice.GetFromJsonAsync<List<PresenceResponse>>($"/api/v1/presence?userId={bobId}");
        Assert.Equal(PresenceStates.Online, Assert.Single(onA!).State);
        await bobHub.Connection.StopAsync().WaitAsync(HubClient.Wait);
        Assert.Equal(PresenceStates.Offline, (await HubClient.NextAsync(aliceHub.Presence, p => p.UserId == bobId && p.State == PresenceStates.Offline)).State);
        var offline = await alice.GetFromJsonAsync<List<PresenceResponse>>($"/api/v1/presence?userId={bobId}");
        Assert.Equal(PresenceStates.Offline, Assert.Single(offline!).State);

        // Carol, connected to B, added on A: her connection follows the conversation from that event on.
        using (var added = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/members", new AddMemberRequest(carolId)))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        Assert.Equal(ConversationEventKinds.MemberJoined, (await HubClient.NextAsync(carolHub.Events)).Kind);
        var welcome = await alice.SendAsync(group.Id, "welcome carol");
        Assert.Equal(welcome.Sequence, (await HubClient.NextAsync(carolHub.Events)).Sequence);

        // A session revoked on A closes its connection on B.
        using var carolPhone = await SignedInUsers.SignInAsync(nodeA.Address, "carol");
        var phone = await ConnectAsync(nodeB, carolPhone);
        var sessions = await carol.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions");
        var phoneSession = sessions!.Where(s => !s.Current).OrderByDescending(s => s.CreatedAt).First();
        using var carolOnA = new HttpClient { BaseAddress = nodeA.Address };
        carolOnA.DefaultRequestHeaders.Authorization = carol.DefaultRequestHeaders.Authorization;
        using (var revoked = await carolOnA.DeleteAsync($"/api/v1/sessions/{phoneSession.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await phone.Closed.Task.WaitAsync(HubClient.Wait);
        Assert.Equal(HubConnectionState.Connected, carolHub.Connection.State);
    }

    [Fact]
    public async Task FiftyConcurrentSenders_OnTwoNodes_SequencesAreGapless()
    {
        await SignedInUsers.RegisterAsync(nodeA.Address, "alice");
        await SignedInUsers.RegisterAsync(nodeA.Address, "bob");
        using var aliceOnA = await SignedInUsers.SignInAsync(nodeA.Address, "alice");
        using var bobOnB = await SignedInUsers.SignInAsync(nodeB.Address, "bob");
        var group = await aliceOnA.CreateGroupAsync("race", await bobOnB.MyIdAsync());
        var watcher = await ConnectAsync(nodeA, aliceOnA);
        // The handshake completes before the server has read the connection's memberships; a push committed in
        // between reaches the client through Sync, as the app does after every connect. The hub runs invocations only
        // after that read, so this Sync also means every later push reaches the watcher.
        Assert.Empty((await watcher.Connection.InvokeAsync<ConversationEventPageResponse>("Sync", group.Id, 0L)).Items);

        const int perSender = 4;
        var senders = Enumerable.Range(0, 50).Select(async i =>
        {
            var client = i % 2 == 0 ? aliceOnA : bobOnB;
            for (var n = 0; n < perSender; n++)
            {
                await client.SendAsync(group.Id, $"sender {i} message {n}");
            }
        });
        await Task.WhenAll(senders);

        var events = await aliceOnA.EventsAsync(group.Id, after: 0);
        Assert.Equal(Enumerable.Range(1, 50 * perSender).Select(i => (long)i), events.Items.Select(e => e.Sequence));
        // Pushes from both nodes reach a client of one node: every sequence, once.
        var pushed = new HashSet<long>();
        while (pushed.Count < 50 * perSender)
        {
            Assert.True(pushed.Add((await HubClient.NextAsync(watcher.Events)).Sequence));
        }
    }

    private async Task<HubClient> ConnectAsync(ServerNode node, HttpClient user)
    {
        var client = await HubClient.ConnectAsync(node.Address, user);
        owned.Add(client);
        await client.ReadyAsync(); // pushes sent from here on reach it
        return client;
    }
}
