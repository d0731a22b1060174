using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Realtime;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Server.Tests.Realtime;

/// <summary>Typing, read receipts, presence, conversation membership events and connection cut-offs over real hub clients.</summary>
public abstract class RealtimeEventsTests(Provider provider) : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> owned = [];
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid aliceId;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Realtime:TypingThrottleMilliseconds"] = "60000",
        });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        aliceId = await alice.MyIdAsync();
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
    public async Task Typing_ReachesMembersOnce_PerThrottleWindow_NonMembersRefused()
    {
        var group = await alice.CreateGroupAsync("typing", bobId);
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var aliceHub = await ConnectAsync(alice);
        var bobHub = await ConnectAsync(bob);
        var carolHub = await ConnectAsync(carol);

        for (var i = 0; i < 5; i++)
        {
            await aliceHub.Connection.InvokeAsync("Typing", group.Id);
        }

        var typing = await HubClient.NextAsync(bobHub.Typing);
        Assert.Equal((group.Id, aliceId), (typing.ConversationId, typing.UserId));
        Assert.True(typing.ExpiresAfterMs >= 1000);
        Assert.Empty(await HubClient.DrainAsync(bobHub.Typing, TimeSpan.FromMilliseconds(300)));
        Assert.Empty(await HubClient.DrainAsync(carolHub.Typing, TimeSpan.Zero));

        var refused = await Assert.ThrowsAsync<HubException>(() => carolHub.Connection.InvokeAsync("Typing", group.Id));
        Assert.Contains(ProblemTypes.NotFound, refused.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, carolHub.Connection.State);
    }

    [Fact]
    public async Task MarkRead_ViaHubAndRest_SendsReceiptsToMembers_NeverBackwards()
    {
        var group = await alice.CreateGroupAsync("receipts", bobId);
        await alice.SendAsync(group.Id, "one");
        await alice.SendAsync(group.Id, "two");
        var aliceHub = await ConnectAsync(alice);
        var bobHub = await ConnectAsync(bob);

        var read = await bobHub.Connection.InvokeAsync<ReadStateResponse>("MarkRead", group.Id, 1L);
        Assert.Equal(1, read.LastReadSequence);
        var receipt = await HubClient.NextAsync(aliceHub.Receipts);
        Assert.Equal((group.Id, bobId, 1L), (receipt.ConversationId, receipt.UserId, receipt.Sequence));

        using (var rest = await bob.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/read", new MarkReadRequest(99)))
        {
            Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        }

        // Capped at the latest sequence; bob's own device hears it too (to clear its unread badge).
        Assert.Equal(2, (await HubClient.NextAsync(aliceHub.Receipts)).Sequence);
        Assert.Equal(2, (await HubClient.NextAsync(bobHub.Receipts, r => r.Sequence == 2)).Sequence);

        // Backwards moves nothing and tells no one.
        Assert.Equal(2, (await bobHub.Connection.InvokeAsync<ReadStateResponse>("MarkRead", group.Id, 1L)).LastReadSequence);
        Assert.Empty(await HubClient.DrainAsync(aliceHub.Receipts, TimeSpan.FromMilliseconds(300)));

        // "Seen by": the members' markers are in the conversation.
        var conversation = await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}");
        Assert.Equal(2, conversation!.Members.Single(m => m.UserId == bobId).LastReadSequence);
    }

    [Fact]
    public async Task Presence_AggregatesDevices_OnlineAwayOffline_WithLastSeen()
    {
        await alice.CreateGroupAsync("presence", bobId);
        var aliceHub = await ConnectAsync(alice);
        // Alice's own devices hear that she is online. Presence changes of different users are not ordered, so this
        // one could otherwise arrive after bob's below, in the quiet periods that must hold nothing.
        Assert.Equal(PresenceStates.Online, (await HubClient.NextAsync(aliceHub.Presence, p => p.UserId == aliceId)).State);

        var laptop = await ConnectAsync(bob);
        Assert.Equal(PresenceStates.Online, (await HubClient.NextAsync(aliceHub.Presence, p => p.UserId == bobId)).State);
        var phone = await ConnectAsync(bob);
        await phone.Connection.InvokeAsync("SetPresence", "away");
        // One device in use is enough to be online: nothing changes for alice.
        Assert.Empty(await HubClient.DrainAsync(aliceHub.Presence, TimeSpan.FromMilliseconds(300)));

        await laptop.Connection.InvokeAsync("SetPresence", "away");
        Assert.Equal(PresenceStates.Away, (await HubClient.NextAsync(aliceHub.Presence, p => p.UserId == bobId)).State);
        await laptop.Connection.StopAsync().WaitAsync(HubClient.Wait);
        Assert.Empty(await HubClient.DrainAsync(aliceHub.Presence, TimeSpan.FromMilliseconds(300)));
        await phone.Connection.StopAsync().WaitAsync(HubClient.Wait);
        var offline = await HubClient.NextAsync(aliceHub.Presence, p => p.UserId == bobId);
        Assert.Equal(PresenceStates.Offline, offline.State);
        Assert.NotNull(offline.LastSeenAt);

        var listed = await alice.GetFromJsonAsync<List<PresenceResponse>>($"/api/v1/presence?userId={bobId}&userId={aliceId}");
        Assert.NotNull(listed);
        Assert.Equal([bobId, aliceId], listed.Select(p => p.UserId));
        Assert.Equal(PresenceStates.Offline, listed[0].State);
        Assert.NotNull(listed[0].LastSeenAt);
        Assert.Equal(PresenceStates.Online, listed[1].State);

        var refused = await Assert.ThrowsAsync<HubException>(() => aliceHub.Connection.InvokeAsync("SetPresence", "invisible"));
        Assert.Contains(ProblemTypes.Validation, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Presence_Hidden_ShowsOfflineToOthers_AndStrangersAreLeftOut()
    {
        await alice.CreateGroupAsync("presence", bobId);
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var carolId = await carol.MyIdAsync();
        await ConnectAsync(carol);
        await ConnectAsync(bob);

        using (var hide = await bob.PutAsJsonAsync("/api/v1/presence/settings", new PresenceSettingsRequest(true)))
        {
            Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
        }

        var listed = await alice.GetFromJsonAsync<List<PresenceResponse>>($"/api/v1/presence?userId={bobId}&userId={carolId}");
        // Carol shares no conversation with alice: left out. Bob is connected but hides: offline, no last seen.
        var only = Assert.Single(listed!);
        Assert.Equal((bobId, PresenceStates.Offline, (DateTimeOffset?)null), (only.UserId, only.State, only.LastSeenAt));
        var own = await bob.GetFromJsonAsync<List<PresenceResponse>>($"/api/v1/presence?userId={bobId}");
        Assert.Equal(PresenceStates.Online, Assert.Single(own!).State);

        using var invalid = await alice.GetAsync("/api/v1/presence");
        await invalid.AssertProblemAsync(400, ProblemTypes.Validation);
    }

    [Fact]
    public async Task NewConversation_WhileConnected_IsAnnounced_AndItsEventsArrive()
    {
        var bobHub = await ConnectAsync(bob);
        var group = await alice.CreateGroupAsync("fresh", bobId);
        Assert.Equal(group.Id, (await HubClient.NextAsync(bobHub.Added)).ConversationId);
        var sent = await alice.SendAsync(group.Id, "first words");
        Assert.Equal(sent.Id, (await HubClient.NextAsync(bobHub.Events)).MessageId);

        var (_, direct) = await alice.CreateDirectAsync(bobId);
        Assert.Equal(direct.Id, (await HubClient.NextAsync(bobHub.Added)).ConversationId);

        using (var left = await bob.PostAsync($"/api/v1/conversations/{group.Id}/leave", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        }

        Assert.Equal(group.Id, (await HubClient.NextAsync(bobHub.Removed)).ConversationId);
    }

    [Fact]
    public async Task RevokedSession_ClosesItsConnections_OtherSessionsStay()
    {
        using var bobPhone = await SignedInUsers.SignInAsync(server, "bob");
        var laptop = await ConnectAsync(bob);
        var phone = await ConnectAsync(bobPhone);

        var sessions = await bob.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions");
        var phoneSession = sessions!.Single(s => !s.Current && s.ClientId == "conntext-desktop");
        using (var revoked = await bob.DeleteAsync($"/api/v1/sessions/{phoneSession.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await phone.Closed.Task.WaitAsync(HubClient.Wait);
        Assert.Equal(HubConnectionState.Disconnected, phone.Connection.State);
        Assert.Equal(HubConnectionState.Connected, laptop.Connection.State);

        // A personal access token's connection closes when the token is revoked.
        using var created = await bob.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("bot", ["read"]));
        var token = (await created.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!;
        var bot = await HubClient.ConnectAsync(server.Address, token.Token);
        owned.Add(bot);
        using (var revoked = await bob.DeleteAsync($"/api/v1/me/tokens/{token.Details.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await bot.Closed.Task.WaitAsync(HubClient.Wait);
        Assert.Equal(HubConnectionState.Connected, laptop.Connection.State);
    }

    private async Task<HubClient> ConnectAsync(HttpClient user)
    {
        var client = await HubClient.ConnectAsync(server.Address, user);
        owned.Add(client);
        await client.ReadyAsync(); // pushes sent from here on reach it
        return client;
    }
}

public sealed class SqliteRealtimeEventsTests() : RealtimeEventsTests(Provider.Sqlite);

public sealed class PostgresRealtimeEventsTests() : RealtimeEventsTests(Provider.Postgres);
