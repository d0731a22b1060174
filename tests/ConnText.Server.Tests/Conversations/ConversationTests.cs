using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;

namespace ConnText.Server.Tests.Conversations;

public abstract class ConversationTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private HttpClient carol = null!;
    private Guid aliceId;
    private Guid bobId;
    private Guid carolId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?> { ["ConnText:Messaging:MaxGroupMembers"] = "3" });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        (aliceId, bobId, carolId) = (await alice.MyIdAsync(), await bob.MyIdAsync(), await carol.MyIdAsync());
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        carol.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task PeerToPeer_OnePerPairBesideTheDirectOne_MessagesRefused_NothingStored_MembersFixed()
    {
        var (_, direct) = await alice.CreateDirectAsync(bobId);
        using var create = await alice.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.PeerToPeer, [bobId]));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var p2p = (await create.Content.ReadFromJsonAsync<ConversationResponse>())!;
        Assert.Equal(ConversationKinds.PeerToPeer, p2p.Kind);
        Assert.NotEqual(direct.Id, p2p.Id);
        Assert.Equal(new[] { aliceId, bobId }.Order(), p2p.Members.Select(m => m.UserId).Order());
        using (var again = await bob.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.PeerToPeer, [aliceId])))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(p2p.Id, (await again.Content.ReadFromJsonAsync<ConversationResponse>())!.Id);
        }

        // The server takes no message in it, over REST or the hub, and stores none.
        using (var send = await alice.PostAsJsonAsync($"/api/v1/conversations/{p2p.Id}/messages", new SendMessageRequest(Guid.NewGuid(), "secret", null)))
        {
            await send.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        var history = (await alice.GetFromJsonAsync<MessagePageResponse>($"/api/v1/conversations/{p2p.Id}/messages"))!;
        Assert.Empty(history.Items);
        Assert.Equal(0, (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{p2p.Id}"))!.LastSequence);

        // Like a direct conversation: nobody leaves, nobody is added; a group of this kind does not exist.
        using (var leave = await alice.DeleteAsync($"/api/v1/conversations/{p2p.Id}/members/{aliceId}"))
        {
            await leave.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        using (var add = await alice.PostAsJsonAsync($"/api/v1/conversations/{p2p.Id}/members", new AddMemberRequest(carolId)))
        {
            await add.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        using var three = await alice.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.PeerToPeer, [bobId, carolId]));
        await three.AssertProblemAsync(400, ProblemTypes.Validation);
    }

    [Fact]
    public async Task CreateDirect_ForTheSamePair_ReturnsTheExistingConversation()
    {
        var (status, created) = await alice.CreateDirectAsync(bobId);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(ConversationKinds.Direct, created.Kind);
        Assert.Equal(new[] { aliceId, bobId }.Order(), created.Members.Select(m => m.UserId).Order());

        var (again, existing) = await alice.CreateDirectAsync(bobId);
        Assert.Equal((HttpStatusCode.OK, created.Id), (again, existing.Id));
        var (fromBob, bobsView) = await bob.CreateDirectAsync(aliceId);
        Assert.Equal((HttpStatusCode.OK, created.Id), (fromBob, bobsView.Id));

        // Both sides starting it at the same moment still end with one conversation.
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? carol : bob).CreateDirectAsync(i % 2 == 0 ? bobId : carolId)));
        Assert.Single(racing.Select(r => r.Conversation.Id).Distinct());
        Assert.Single(racing, r => r.Status == HttpStatusCode.Created);

        using var self = await alice.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [aliceId]));
        var problem = await self.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("memberIds", out _));
    }

    [Fact]
    public async Task CreateGroup_InvalidRequests_AreProblemsNamingTheField()
    {
        var cases = new (CreateConversationRequest Body, string Field)[]
        {
            (new CreateConversationRequest("channel", [bobId], "x"), "kind"),
            (new CreateConversationRequest(ConversationKinds.Group, [bobId], ""), "title"),
            (new CreateConversationRequest(ConversationKinds.Group, [bobId], new string('t', 101)), "title"),
            (new CreateConversationRequest(ConversationKinds.Group, [bobId], "bell \u0007"), "title"),
            (new CreateConversationRequest(ConversationKinds.Group, [bobId], "nul", "a NUL \0 inside"), "topic"),
            (new CreateConversationRequest(ConversationKinds.Group, [bobId], "long", new string('t', 501)), "topic"),
            (new CreateConversationRequest(ConversationKinds.Group, [Guid.NewGuid()], "unknown"), "memberIds"),
            // The limit (3 here) counts the creator.
            (new CreateConversationRequest(ConversationKinds.Group, [bobId, carolId, Guid.NewGuid()], "too many"), "memberIds"),
        };
        foreach (var (body, field) in cases)
        {
            using var response = await alice.PostAsJsonAsync("/api/v1/conversations", body);
            var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }

        var group = await alice.CreateGroupAsync("  Team  ", bobId);
        Assert.Equal(("Team", MemberRoles.Owner), (group.Title!, group.MyRole));
        Assert.Equal(MemberRoles.Member, group.Members.Single(m => m.UserId == bobId).Role);

        // A title or topic changed later is checked alike, and a refused change changes nothing.
        var changes = new (UpdateConversationRequest Body, string Field)[]
        {
            (new UpdateConversationRequest(Topic: "\0"), "topic"),
            (new UpdateConversationRequest(Topic: new string('t', 501)), "topic"),
            (new UpdateConversationRequest(Title: "   "), "title"),
            (new UpdateConversationRequest(Title: new string('t', 101)), "title"),
            (new UpdateConversationRequest(Title: "bell \u0007", Topic: "fine"), "title"),
        };
        foreach (var (body, field) in changes)
        {
            using var refused = await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}", body);
            var problem = await refused.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }

        var unchanged = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(("Team", (string?)null), (unchanged.Title, unchanged.Topic));
    }

    [Fact]
    public async Task List_OrdersByLastActivity_WithMuteAndPaging()
    {
        var first = await alice.CreateGroupAsync("first", bobId);
        var second = await alice.CreateGroupAsync("second", bobId);
        await bob.SendAsync(first.Id, "bump");

        var page = (await alice.GetFromJsonAsync<ConversationPageResponse>("/api/v1/conversations"))!;
        Assert.Equal([first.Id, second.Id], page.Items.Select(c => c.Id));
        Assert.Equal((1, "bump"), (page.Items[0].UnreadCount, page.Items[0].LastMessage!.Text!));
        Assert.Equal(page.Items[0].LastMessage!.CreatedAt, page.Items[0].LastActivityAt); // taken with the sequence, in one statement
        Assert.Null(page.Items[1].LastMessage);

        using (var mute = await alice.PutAsJsonAsync($"/api/v1/conversations/{second.Id}/settings", new UpdateMySettingsRequest(true)))
        {
            Assert.Equal(HttpStatusCode.OK, mute.StatusCode);
        }

        var paged = (await alice.GetFromJsonAsync<ConversationPageResponse>("/api/v1/conversations?page=2&pageSize=1"))!;
        Assert.Equal(second.Id, Assert.Single(paged.Items).Id);
        Assert.True(paged.Items[0].Muted);
        Assert.False(paged.HasMore);
        Assert.False((await bob.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{second.Id}"))!.Muted);

        using var tooBig = await alice.GetAsync("/api/v1/conversations?pageSize=101");
        var problem = await tooBig.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("pageSize", out _));
    }

    [Fact]
    public async Task Members_AddRemoveLeave_AreSequencedSystemMessages()
    {
        var group = await alice.CreateGroupAsync("crew", bobId);

        using (var byMember = await bob.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/members", new AddMemberRequest(carolId)))
        {
            await byMember.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        using (var add = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/members", new AddMemberRequest(carolId)))
        {
            Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        }

        using (var again = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/members", new AddMemberRequest(carolId)))
        {
            await again.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        await carol.SendAsync(group.Id, "hi all");
        using (var remove = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/members/{carolId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        using (var gone = await carol.GetAsync($"/api/v1/conversations/{group.Id}"))
        {
            await gone.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        using (var leave = await alice.PostAsync($"/api/v1/conversations/{group.Id}/leave", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, leave.StatusCode);
        }

        var events = await bob.EventsAsync(group.Id, after: 0);
        Assert.Equal([1L, 2L, 3L, 4L], events.Items.Select(e => e.Sequence));
        Assert.Equal(
            [ConversationEventKinds.MemberJoined, ConversationEventKinds.MessageCreated, ConversationEventKinds.MemberLeft, ConversationEventKinds.MemberLeft],
            events.Items.Select(e => e.Kind));
        Assert.Equal([carolId, null, carolId, aliceId], events.Items.Select(e => e.SubjectUserId));
        Assert.All(events.Items.Where(e => e.Kind != ConversationEventKinds.MessageCreated),
            e => Assert.Equal((MessageKinds.System, e.Kind), (e.Message!.Kind, e.Message.SystemEvent!)));

        // The owner left: ownership passed to the remaining member.
        var bobsView = (await bob.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(MemberRoles.Owner, bobsView.MyRole);
        Assert.Equal([bobId], bobsView.Members.Select(m => m.UserId));

        var (_, direct) = await alice.CreateDirectAsync(bobId);
        using var leaveDirect = await alice.PostAsync($"/api/v1/conversations/{direct.Id}/leave", null);
        await leaveDirect.AssertProblemAsync(409, ProblemTypes.Conflict);
    }

    [Fact]
    public async Task Owner_DeletesAMembersMessage_ARemovedMemberCannotSendOrRetry()
    {
        var group = await alice.CreateGroupAsync("moderated", bobId, carolId);
        var clientId = Guid.NewGuid();
        var (_, spam) = await bob.TrySendAsync(group.Id, "spam", clientId);

        var tombstone = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{spam.Id}").OkMessageAsync();
        Assert.Equal((null, spam.Id), (tombstone.Text, tombstone.Id));
        using (var byMember = await carol.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{(await alice.SendAsync(group.Id, "keep")).Id}"))
        {
            await byMember.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        using (var remove = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/members/{bobId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        // Even a retry of a message stored while bob was a member is answered as for a stranger.
        using var retry = await bob.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages", new SendMessageRequest(clientId, "spam"));
        await retry.AssertProblemAsync(404, ProblemTypes.NotFound);
        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal(
            [ConversationEventKinds.MessageCreated, ConversationEventKinds.MessageDeleted, ConversationEventKinds.MessageCreated, ConversationEventKinds.MemberLeft],
            events.Items.Select(e => e.Kind));
    }

    [Fact]
    public async Task EveryRoute_NonMemberGets404_AnonymousGets401()
    {
        var group = await alice.CreateGroupAsync("private", bobId);
        var message = await alice.SendAsync(group.Id, "secret");
        var c = $"/api/v1/conversations/{group.Id}";
        var m = $"{c}/messages/{message.Id}";
        var routes = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, c, null),
            (HttpMethod.Put, $"{c}/settings", new UpdateMySettingsRequest(true)),
            (HttpMethod.Post, $"{c}/members", new AddMemberRequest(carolId)),
            (HttpMethod.Delete, $"{c}/members/{bobId}", null),
            (HttpMethod.Post, $"{c}/leave", null),
            (HttpMethod.Post, $"{c}/messages", new SendMessageRequest(Guid.NewGuid(), "let me in")),
            (HttpMethod.Get, $"{c}/messages", null),
            (HttpMethod.Patch, m, new EditMessageRequest("changed")),
            (HttpMethod.Delete, m, null),
            (HttpMethod.Put, MessagingClient.Reaction(group.Id, message.Id, "👀"), null),
            (HttpMethod.Delete, MessagingClient.Reaction(group.Id, message.Id, "👀"), null),
            (HttpMethod.Get, $"{c}/events?after=0", null),
            (HttpMethod.Post, $"{c}/read", new MarkReadRequest(1)),
            (HttpMethod.Patch, c, new UpdateConversationRequest("taken over")),
            (HttpMethod.Put, $"{c}/members/{bobId}/role", new SetMemberRoleRequest(MemberRoles.Admin)),
            (HttpMethod.Get, $"{c}/avatar", null),
            (HttpMethod.Put, $"{c}/avatar", "not an image"u8.ToArray()),
            (HttpMethod.Delete, $"{c}/avatar", null),
        };

        using var anonymous = new HttpClient { BaseAddress = server.Address };
        foreach (var (method, path, body) in routes)
        {
            using (var stranger = await carol.SendAsync(Request(method, path, body)))
            {
                var problem = await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
                Assert.DoesNotContain("secret", problem.ToString(), StringComparison.Ordinal);
            }

            using var nobody = await anonymous.SendAsync(Request(method, path, body));
            await nobody.AssertProblemAsync(401, ProblemTypes.Unauthorized);
        }

        using (var list = await anonymous.GetAsync("/api/v1/conversations"))
        {
            await list.AssertProblemAsync(401, ProblemTypes.Unauthorized);
        }

        // A random id answers exactly like someone else's conversation.
        using (var missing = await carol.GetAsync($"/api/v1/conversations/{Guid.NewGuid()}"))
        {
            await missing.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        // Nothing the stranger did changed the conversation.
        Assert.Empty((await carol.GetFromJsonAsync<ConversationPageResponse>("/api/v1/conversations"))!.Items);
        var after = (await alice.GetFromJsonAsync<ConversationResponse>(c))!;
        Assert.Equal((1L, 2), (after.LastSequence, after.Members.Count));
        Assert.Equal("secret", after.LastMessage!.Text);
    }

    [Fact]
    public async Task ManagerRoutes_PlainMemberGets403_OwnerAndAdminAllowed()
    {
        var group = await alice.CreateGroupAsync("roles", bobId);
        var c = $"/api/v1/conversations/{group.Id}";
        var managerRoutes = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Post, $"{c}/members", new AddMemberRequest(carolId)),
            (HttpMethod.Delete, $"{c}/members/{aliceId}", null),
            (HttpMethod.Patch, c, new UpdateConversationRequest("mine now")),
            (HttpMethod.Put, $"{c}/members/{aliceId}/role", new SetMemberRoleRequest(MemberRoles.Member)),
            (HttpMethod.Put, $"{c}/avatar", "not an image"u8.ToArray()),
            (HttpMethod.Delete, $"{c}/avatar", null),
        };
        foreach (var (method, path, body) in managerRoutes)
        {
            using var member = await bob.SendAsync(Request(method, path, body));
            await member.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        // The owner makes bob an admin: he may now rename the group and add members, but not change roles.
        using (var promoted = await alice.PutAsJsonAsync($"{c}/members/{bobId}/role", new SetMemberRoleRequest(MemberRoles.Admin)))
        {
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        }

        using (var renamed = await bob.PatchAsJsonAsync(c, new UpdateConversationRequest("Renamed", "")))
        {
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
            var updated = (await renamed.Content.ReadFromJsonAsync<ConversationResponse>())!;
            Assert.Equal(("Renamed", (string?)null), (updated.Title, updated.Topic));
        }

        using (var roles = await bob.PutAsJsonAsync($"{c}/members/{aliceId}/role", new SetMemberRoleRequest(MemberRoles.Member)))
        {
            await roles.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        using (var added = await bob.PostAsJsonAsync($"{c}/members", new AddMemberRequest(carolId)))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        using (var invalid = await alice.PutAsJsonAsync($"{c}/members/{bobId}/role", new SetMemberRoleRequest("king")))
        {
            await invalid.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var emptyPatch = await alice.PatchAsJsonAsync(c, new UpdateConversationRequest()))
        {
            await emptyPatch.AssertProblemAsync(400, ProblemTypes.Validation);
        }
    }

    [Fact]
    public async Task TransferOwnership_SwapsRoles_AsTwoSequencedEvents()
    {
        var group = await alice.CreateGroupAsync("handover", bobId);
        var c = $"/api/v1/conversations/{group.Id}";
        using (var self = await alice.PutAsJsonAsync($"{c}/members/{aliceId}/role", new SetMemberRoleRequest(MemberRoles.Member)))
        {
            await self.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        using (var handed = await alice.PutAsJsonAsync($"{c}/members/{bobId}/role", new SetMemberRoleRequest(MemberRoles.Owner)))
        {
            Assert.Equal(HttpStatusCode.OK, handed.StatusCode);
            var after = (await handed.Content.ReadFromJsonAsync<ConversationResponse>())!;
            Assert.Equal(MemberRoles.Owner, after.Members.Single(m => m.UserId == bobId).Role);
            Assert.Equal(MemberRoles.Admin, after.Members.Single(m => m.UserId == aliceId).Role);
        }

        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal(
            [(ConversationEventKinds.MemberRoleChanged, bobId, MemberRoles.Owner), (ConversationEventKinds.MemberRoleChanged, aliceId, MemberRoles.Admin)],
            events.Items.Select(e => (e.Kind, e.SubjectUserId!.Value, e.Role!)));

        // The same role again changes nothing and spends no sequence; the new owner now decides.
        using (var again = await bob.PutAsJsonAsync($"{c}/members/{aliceId}/role", new SetMemberRoleRequest(MemberRoles.Admin)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(2, (await alice.EventsAsync(group.Id, after: 0)).LastSequence);
        using (var direct = await alice.PutAsJsonAsync($"/api/v1/conversations/{(await alice.CreateDirectAsync(bobId)).Conversation.Id}/members/{bobId}/role",
                   new SetMemberRoleRequest(MemberRoles.Admin)))
        {
            await direct.AssertProblemAsync(409, ProblemTypes.Conflict);
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, object? body) => new(method, path)
    {
        Content = body switch
        {
            null => null,
            byte[] image => new ByteArrayContent(image) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png") } },
            _ => JsonContent.Create(body, body.GetType()),
        },
    };
}

public sealed class SqliteConversationTests() : ConversationTests(Provider.Sqlite);

public sealed class PostgresConversationTests() : ConversationTests(Provider.Postgres);
