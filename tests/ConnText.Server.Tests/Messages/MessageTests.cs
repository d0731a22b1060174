using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Messages;

public abstract class MessageTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?> { ["ConnText:Messaging:MaxMessageChars"] = "1000" });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        bobId = await bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Send_FiftyConcurrentSendersFromFiveUsers_SequencesAreGaplessAndUnique()
    {
        var senders = new List<HttpClient> { alice, bob };
        for (var i = 0; i < 3; i++)
        {
            senders.Add(await SignedInUsers.RegisterAndSignInAsync(server, $"sender{i}"));
        }

        var ids = new List<Guid>();
        foreach (var sender in senders.Skip(1))
        {
            ids.Add(await sender.MyIdAsync());
        }

        // Created with its members: no member events, so the 50 messages are events 1..50.
        var group = await alice.CreateGroupAsync("busy", [.. ids]);
        using var start = new SemaphoreSlim(0);
        var sends = Enumerable.Range(0, 50).Select(async i =>
        {
            await start.WaitAsync();
            return await senders[i % senders.Count].SendAsync(group.Id, $"message {i}");
        }).ToList();
        start.Release(50);
        var sent = await Task.WhenAll(sends);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), sent.Select(m => m.Sequence).Order());
        Assert.Equal(50, sent.Select(m => m.Id).Distinct().Count());

        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), events.Items.Select(e => e.Sequence));
        Assert.All(events.Items, e => Assert.Equal(ConversationEventKinds.MessageCreated, e.Kind));
        Assert.Equal(50, events.LastSequence);
        var history = await bob.HistoryAsync(group.Id, "after=0&limit=100");
        Assert.Equal(sent.OrderBy(m => m.Sequence).Select(m => m.Id), history.Items.Select(m => m.Id));

        foreach (var sender in senders.Skip(2))
        {
            sender.Dispose();
        }
    }

    [Fact]
    public async Task Send_RetriedWithSameClientMessageId_StoredOnceWithSameSequence()
    {
        var group = await alice.CreateGroupAsync("retries", bobId);
        var clientId = Guid.NewGuid();
        var (firstStatus, first) = await alice.TrySendAsync(group.Id, "hello", clientId);
        var (retryStatus, retry) = await alice.TrySendAsync(group.Id, "hello", clientId);
        Assert.Equal(HttpStatusCode.Created, firstStatus);
        Assert.Equal(HttpStatusCode.OK, retryStatus);
        Assert.Equal((first.Id, first.Sequence, clientId), (retry.Id, retry.Sequence, retry.ClientMessageId!.Value));

        // Concurrent retries of a new message: exactly one is created, all answers name it.
        var concurrentId = Guid.NewGuid();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => alice.TrySendAsync(group.Id, "again", concurrentId)));
        Assert.Single(attempts, a => a.Status == HttpStatusCode.Created);
        Assert.Single(attempts.Select(a => (a.Message.Id, a.Message.Sequence)).Distinct());
        Assert.Equal(2, attempts[0].Message.Sequence);

        // The same client id from another sender is another message; retries consumed no sequence numbers.
        var (_, bobs) = await bob.TrySendAsync(group.Id, "mine", concurrentId);
        Assert.Equal(3, bobs.Sequence);
        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal([1L, 2L, 3L], events.Items.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Send_ByNonMember_IsNotFound_EvenAsARetryOrAReply_AndTakesNoSequence()
    {
        var group = await alice.CreateGroupAsync("members only", bobId);
        var first = await alice.SendAsync(group.Id, "first");
        var bobsClientId = Guid.NewGuid();
        var (_, bobs) = await bob.TrySendAsync(group.Id, "bob was here", bobsClientId);
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var path = $"/api/v1/conversations/{group.Id}/messages";

        // A stranger learns nothing: a reply to a message that exists and one that does not are answered alike.
        foreach (var replyTo in new Guid?[] { null, first.Id, Guid.NewGuid() })
        {
            using var refused = await carol.PostAsJsonAsync(path, new SendMessageRequest(Guid.NewGuid(), "let me in", replyTo));
            await refused.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        // A removed member's retry of what they sent before is refused like any other send of theirs.
        using (var removed = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/members/{bobId}"))
        {
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());
        }

        using (var retry = await bob.PostAsJsonAsync(path, new SendMessageRequest(bobsClientId, "bob was here")))
        {
            await retry.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        // Sequences 1 and 2 are the two messages, 3 is bob's removal: nothing refused took one.
        var after = await alice.SendAsync(group.Id, "after");
        Assert.Equal((1L, 2L, 4L), (first.Sequence, bobs.Sequence, after.Sequence));
        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal([1L, 2L, 3L, 4L], events.Items.Select(e => e.Sequence));
    }

    [Fact]
    public async Task History_BeforeAndAfter_PagesByKeyset()
    {
        var group = await alice.CreateGroupAsync("history", bobId);
        for (var i = 1; i <= 7; i++)
        {
            await (i % 2 == 0 ? bob : alice).SendAsync(group.Id, $"m{i}");
        }

        var newest = await alice.HistoryAsync(group.Id, "limit=3");
        Assert.Equal([5L, 6L, 7L], newest.Items.Select(m => m.Sequence));
        Assert.True(newest.HasMore);
        var older = await alice.HistoryAsync(group.Id, "before=5&limit=3");
        Assert.Equal([2L, 3L, 4L], older.Items.Select(m => m.Sequence));
        Assert.True(older.HasMore);
        var oldest = await alice.HistoryAsync(group.Id, "before=2&limit=3");
        Assert.Equal([1L], oldest.Items.Select(m => m.Sequence));
        Assert.False(oldest.HasMore);
        Assert.Equal("m1", oldest.Items[0].Text);
        var after = await bob.HistoryAsync(group.Id, "after=4&limit=2");
        Assert.Equal([5L, 6L], after.Items.Select(m => m.Sequence));
        Assert.True(after.HasMore);
        var tail = await bob.HistoryAsync(group.Id, "after=6&limit=2");
        Assert.Equal([7L], tail.Items.Select(m => m.Sequence));
        Assert.False(tail.HasMore);

        foreach (var query in new[] { "limit=0", "limit=101" })
        {
            using var response = await alice.GetAsync($"/api/v1/conversations/{group.Id}/messages?{query}");
            var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
        }

        using (var both = await alice.GetAsync($"/api/v1/conversations/{group.Id}/messages?before=3&after=1"))
        {
            await both.AssertProblemAsync(400, ProblemTypes.Validation);
        }
    }

    [Fact]
    public async Task Events_AfterSequence_ReplayEditsDeletesAndReactionsInOrder()
    {
        var group = await alice.CreateGroupAsync("sync", bobId);
        var first = await alice.SendAsync(group.Id, "first");
        var (_, second) = await bob.TrySendAsync(group.Id, "second", replyTo: first.Id);

        var edited = await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{first.Id}", new EditMessageRequest("first, edited")).OkMessageAsync();
        Assert.NotNull(edited.EditedAt);
        var reacted = await bob.PutAsync(MessagingClient.Reaction(group.Id, second.Id, "👍"), null).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("👍", 1, true)], reacted.Reactions);
        await bob.PutAsync(MessagingClient.Reaction(group.Id, second.Id, "👍"), null).OkMessageAsync(); // no change, no event
        var both = await alice.PutAsync(MessagingClient.Reaction(group.Id, second.Id, "👍"), null).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("👍", 2, true)], both.Reactions);
        var taken = await bob.DeleteAsync(MessagingClient.Reaction(group.Id, second.Id, "👍")).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("👍", 1, false)], taken.Reactions);
        var tombstone = await bob.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{second.Id}").OkMessageAsync();
        Assert.Null(tombstone.Text);
        Assert.NotNull(tombstone.DeletedAt);

        // Someone else's message: neither editable nor deletable by a plain member.
        using (var foreignEdit = await bob.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{first.Id}", new EditMessageRequest("mine now")))
        {
            await foreignEdit.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        using (var foreignDelete = await bob.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{first.Id}"))
        {
            await foreignDelete.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        var events = await bob.EventsAsync(group.Id, after: 2);
        Assert.Equal([3L, 4L, 5L, 6L, 7L], events.Items.Select(e => e.Sequence));
        Assert.Equal(
            [ConversationEventKinds.MessageEdited, ConversationEventKinds.ReactionAdded, ConversationEventKinds.ReactionAdded,
             ConversationEventKinds.ReactionRemoved, ConversationEventKinds.MessageDeleted],
            events.Items.Select(e => e.Kind));
        Assert.Equal("first, edited", events.Items[0].Message!.Text);
        Assert.Equal(["👍", "👍", "👍"], events.Items.Skip(1).Take(3).Select(e => e.Emoji!));
        Assert.Equal([bobId, await alice.MyIdAsync(), bobId], events.Items.Skip(1).Take(3).Select(e => e.ActorId));
        Assert.Null(events.Items[4].Message!.Text);
        Assert.Equal(7, events.LastSequence);
        Assert.False(events.HasMore);

        var paged = await bob.EventsAsync(group.Id, after: 0, limit: 2);
        Assert.Equal([1L, 2L], paged.Items.Select(e => e.Sequence));
        Assert.True(paged.HasMore);
        Assert.Equal(first.Id, paged.Items[1].Message!.ReplyToMessageId);
    }

    [Fact]
    public async Task Send_InvalidRequests_AreProblemsNamingTheField()
    {
        var group = await alice.CreateGroupAsync("validation", bobId);
        var path = $"/api/v1/conversations/{group.Id}/messages";
        var cases = new (object Body, string Field)[]
        {
            (new SendMessageRequest(Guid.NewGuid(), ""), "text"),
            (new SendMessageRequest(Guid.NewGuid(), "   "), "text"),
            (new SendMessageRequest(Guid.NewGuid(), new string('x', 1001)), "text"),
            (new SendMessageRequest(Guid.NewGuid(), "a NUL \0 inside"), "text"), // PostgreSQL's text cannot hold it
            (new SendMessageRequest(null, "hi"), "clientMessageId"),
            (new SendMessageRequest(Guid.Empty, "hi"), "clientMessageId"),
            (new SendMessageRequest(Guid.NewGuid(), "hi", Guid.NewGuid()), "replyToMessageId"),
        };
        foreach (var (body, field) in cases)
        {
            using var response = await alice.PostAsJsonAsync(path, body);
            var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }

        using (var notAGuid = await alice.PostAsJsonAsync(path, new { clientMessageId = "not-a-guid", text = "hi" }))
        {
            var problem = await notAGuid.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
            Assert.Contains("clientMessageId", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var message = await alice.SendAsync(group.Id, new string('x', 1000));
        using (var longEmoji = await bob.PutAsync(MessagingClient.Reaction(group.Id, message.Id, new string('a', 33)), null))
        {
            var problem = await longEmoji.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("emoji", out _));
        }

        foreach (var edit in new[] { "", "\0" })
        {
            using var badEdit = await alice.PatchAsJsonAsync($"{path}/{message.Id}", new EditMessageRequest(edit));
            var problem = await badEdit.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("text", out _));
        }

        // Nothing refused took a sequence number.
        Assert.Equal(1, message.Sequence);
    }

    [Fact]
    public async Task MarkRead_NeverMovesBackwards_AndDrivesUnreadCount()
    {
        var group = await alice.CreateGroupAsync("reading", bobId);
        await alice.SendAsync(group.Id, "from alice");
        for (var i = 0; i < 3; i++)
        {
            await bob.SendAsync(group.Id, $"from bob {i}");
        }

        var listed = await ListAsync(alice);
        Assert.Equal(3, listed.UnreadCount);
        Assert.Equal(4, listed.LastMessage!.Sequence);
        Assert.Equal("from bob 2", listed.LastMessage.Text);
        Assert.Equal(1, (await ListAsync(bob)).UnreadCount); // alice's message; his own never count

        Assert.Equal(3, await ReadAsync(alice, group.Id, 3));
        Assert.Equal(1, (await ListAsync(alice)).UnreadCount);
        Assert.Equal(3, await ReadAsync(alice, group.Id, 1));
        Assert.Equal(4, await ReadAsync(alice, group.Id, 99));
        Assert.Equal(0, (await ListAsync(alice)).UnreadCount);

        using var negative = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/read", new MarkReadRequest(-1));
        var problem = await negative.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("sequence", out _));
    }

    [Fact]
    public async Task Send_WithMentions_ResolvesMembersOnly()
    {
        using var outsider = await SignedInUsers.RegisterAndSignInAsync(server, "outsider");
        var group = await alice.CreateGroupAsync("mentions", bobId);
        var message = await alice.SendAsync(group.Id, "@BOB look, @outsider and @nobody; mail bob@example.com, @bob again");
        Assert.Equal([bobId], message.Mentions);

        var edited = await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}", new EditMessageRequest("never mind")).OkMessageAsync();
        Assert.Empty(edited.Mentions);
        var history = await bob.HistoryAsync(group.Id, "after=0");
        Assert.Empty(Assert.Single(history.Items).Mentions);
    }

    [Fact]
    public async Task History_MixedPage_EachMessageCarriesOnlyItsOwnReactionsAndMentions()
    {
        // Each message says whether it has reactions or mentions; only those are looked up (MessageViews).
        var group = await alice.CreateGroupAsync("mixed", bobId);
        await alice.SendAsync(group.Id, "plain");
        var mentioning = await alice.SendAsync(group.Id, "@bob have a look");
        var reacted = await bob.SendAsync(group.Id, "react to me");
        await alice.SendAsync(group.Id, "plain again");
        await alice.PutAsync(MessagingClient.Reaction(group.Id, reacted.Id, "🎉"), null).OkMessageAsync();
        await bob.PutAsync(MessagingClient.Reaction(group.Id, reacted.Id, "🎉"), null).OkMessageAsync();
        await bob.PutAsync(MessagingClient.Reaction(group.Id, reacted.Id, "👀"), null).OkMessageAsync();

        foreach (var query in new[] { "after=0", "limit=50", $"before={reacted.Sequence + 5}" })
        {
            var page = (await alice.HistoryAsync(group.Id, query)).Items.Where(m => m.Kind == MessageKinds.Text).ToList();
            Assert.Equal(["plain", "@bob have a look", "react to me", "plain again"], page.Select(m => m.Text));
            Assert.All(page.Where(m => m.Id != reacted.Id), m => Assert.Empty(m.Reactions));
            Assert.Equal([new ReactionCountResponse("🎉", 2, true), new ReactionCountResponse("👀", 1, false)],
                page.Single(m => m.Id == reacted.Id).Reactions);
            Assert.Equal([bobId], page.Single(m => m.Id == mentioning.Id).Mentions);
            Assert.All(page.Where(m => m.Id != mentioning.Id), m => Assert.Empty(m.Mentions));
            Assert.All(page, m => Assert.Empty(m.Attachments));
        }
    }

    [Fact]
    public async Task History_AfterEditsReactionTogglesAndDelete_ShowsWhatIsStoredNow()
    {
        // Each message stores whether it has reactions, mentions or files (Message.HasReactions, …); a page looks up
        // only those. Every change must keep the flags right, or a page would silently drop what the message has.
        var group = await alice.CreateGroupAsync("flags", bobId);
        var message = await alice.SendAsync(group.Id, "plain at first");
        async Task<MessageResponse> StoredAsync() => Assert.Single((await bob.HistoryAsync(group.Id, "limit=50")).Items, m => m.Id == message.Id);

        await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}", new EditMessageRequest("now for @bob")).OkMessageAsync();
        Assert.Equal([bobId], (await StoredAsync()).Mentions);

        await bob.PutAsync(MessagingClient.Reaction(group.Id, message.Id, "👍"), null).OkMessageAsync();
        await bob.PutAsync(MessagingClient.Reaction(group.Id, message.Id, "🎉"), null).OkMessageAsync();
        await alice.PutAsync(MessagingClient.Reaction(group.Id, message.Id, "🎉"), null).OkMessageAsync();
        await bob.DeleteAsync(MessagingClient.Reaction(group.Id, message.Id, "👍")).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("🎉", 2, true)], (await StoredAsync()).Reactions);
        await bob.DeleteAsync(MessagingClient.Reaction(group.Id, message.Id, "🎉")).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("🎉", 1, false)], (await StoredAsync()).Reactions); // alice's is still there
        await alice.DeleteAsync(MessagingClient.Reaction(group.Id, message.Id, "🎉")).OkMessageAsync();
        Assert.Empty((await StoredAsync()).Reactions);
        await bob.PutAsync(MessagingClient.Reaction(group.Id, message.Id, "👀"), null).OkMessageAsync();
        Assert.Equal([new ReactionCountResponse("👀", 1, true)], (await StoredAsync()).Reactions);

        await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}", new EditMessageRequest("nobody now")).OkMessageAsync();
        var unmentioned = await StoredAsync();
        Assert.Empty(unmentioned.Mentions);
        Assert.Single(unmentioned.Reactions);

        await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}", new EditMessageRequest("@bob again")).OkMessageAsync();
        await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}").OkMessageAsync();
        var tombstone = await StoredAsync();
        Assert.Null(tombstone.Text);
        Assert.Empty(tombstone.Mentions);
        Assert.Empty(tombstone.Reactions);
    }

    private static async Task<ConversationResponse> ListAsync(HttpClient client) =>
        Assert.Single((await client.GetFromJsonAsync<ConversationPageResponse>("/api/v1/conversations"))!.Items);

    private static async Task<long> ReadAsync(HttpClient client, Guid conversationId, long sequence)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/read", new MarkReadRequest(sequence));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReadStateResponse>())!.LastReadSequence;
    }
}

public sealed class SqliteMessageTests() : MessageTests(Provider.Sqlite);

public sealed class PostgresMessageTests() : MessageTests(Provider.Postgres);
