using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Messages;

/// <summary>
/// The one-round-trip send on PostgreSQL (ADR 0025): a plain text is one batch, everything else the EF Core transaction,
/// and both number one conversation's events alike. Round trips are counted from Npgsql's own tracing (one activity per
/// command or batch sent), for this test's database only.
/// </summary>
public sealed class PostgresSendTests : IAsyncLifetime, IDisposable
{
    private readonly ConcurrentQueue<Activity> commands = new();
    private readonly ActivityListener listener;
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public PostgresSendTests()
    {
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (server is not null && activity.Tags.Any(t => t.Value == server.Database.PostgresName))
                {
                    commands.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
    }

    public async Task InitializeAsync()
    {
        // The call sweeper's queries (every second by default) would be counted with a send's; a minute is its longest.
        server = await ServerInstance.StartAsync(Provider.Postgres, new Dictionary<string, string?> { ["ConnText:Calls:SweepInterval"] = "00:01:00" });
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

    public void Dispose() => listener.Dispose();

    [Fact]
    public async Task PlainText_IsOneRoundTrip_MentionsAndRepliesTakeTheTransaction_WithoutSavepoints()
    {
        var group = await alice.CreateGroupAsync("paths", bobId);
        var first = await alice.SendAsync(group.Id, "warm up"); // the first use of a pooled connection prepares statements

        var plain = await RoundTripsAsync(() => alice.SendAsync(group.Id, "hello, no mention here (mail me at a@b.example)"));
        var mention = await RoundTripsAsync(() => alice.SendAsync(group.Id, "hi @bob"));
        var reply = await RoundTripsAsync(() => bob.TrySendAsync(group.Id, "replying", replyTo: first.Id));

        Assert.Single(plain);
        Assert.Contains("FOR NO KEY UPDATE", plain[0], StringComparison.Ordinal);
        // The transaction (its COMMIT is not traced): the sequence, the check, the names' look-up and the inserts, then
        // the response reads the stored mentions; a reply looks its target up instead.
        Assert.True(mention.Count == 5, string.Join("\n---\n", mention)); // the statements, should it fail
        Assert.True(reply.Count == 4, string.Join("\n---\n", reply));
        Assert.DoesNotContain(mention.Concat(reply), text => text.Contains("SAVEPOINT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BothPaths_NumberOneConversationAlike_RefusalsAndRetriesTakeNoSequence()
    {
        var group = await alice.CreateGroupAsync("one sequence", bobId);
        var path = $"/api/v1/conversations/{group.Id}/messages";
        var one = await alice.SendAsync(group.Id, "one");                                       // 1, one round trip
        var two = await alice.SendAsync(group.Id, "two @bob");                                  // 2, the transaction
        var retryId = Guid.NewGuid();
        var (_, three) = await bob.TrySendAsync(group.Id, "three", retryId);                     // 3
        var (retryStatus, retried) = await bob.TrySendAsync(group.Id, "three, again", retryId);  // the same message
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        using (var stranger = await carol.PostAsJsonAsync(path, new SendMessageRequest(Guid.NewGuid(), "let me in")))
        {
            await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        var four = await alice.SendAsync(group.Id, "four");

        Assert.Equal((1L, 2L, 3L, 4L), (one.Sequence, two.Sequence, three.Sequence, four.Sequence));
        Assert.Equal((HttpStatusCode.OK, three.Id, 3L, "three"), (retryStatus, retried.Id, retried.Sequence, retried.Text));
        Assert.Equal([bobId], two.Mentions);
        var events = await alice.EventsAsync(group.Id, after: 0);
        Assert.Equal(4, events.LastSequence);
        Assert.Equal(
            [(1L, one.Id, "one"), (2L, two.Id, "two @bob"), (3L, three.Id, "three"), (4L, four.Id, "four")],
            events.Items.Select(e => (e.Sequence, e.MessageId!.Value, e.Message!.Text!)));
        Assert.All(events.Items, e => Assert.Equal(ConversationEventKinds.MessageCreated, e.Kind));

        // What the one-round-trip path stored reads back as the transaction's rows do.
        var history = await alice.HistoryAsync(group.Id, "limit=10");
        var stored = Assert.Single(history.Items, m => m.Id == four.Id);
        // (PostgreSQL keeps microseconds; the send's response has the server clock's 100 ns, on either path.)
        var createdAt = Microseconds(four.CreatedAt);
        Assert.Equal((MessageKinds.Text, four.SenderId, createdAt, (DateTimeOffset?)null), (stored.Kind, stored.SenderId, stored.CreatedAt, stored.EditedAt));
        var conversation = (await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(createdAt, conversation.LastActivityAt);
    }

    [Fact]
    public async Task PeerToPeerConversation_RefusesAPlainText_AndStoresNothing()
    {
        using var create = await alice.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.PeerToPeer, [bobId]));
        var p2p = (await create.Content.ReadFromJsonAsync<ConversationResponse>())!;

        using var refused = await alice.PostAsJsonAsync(
            $"/api/v1/conversations/{p2p.Id}/messages", new SendMessageRequest(Guid.NewGuid(), "hello"));

        await refused.AssertProblemAsync(409, ProblemTypes.Conflict);
        Assert.Empty((await alice.EventsAsync(p2p.Id, after: 0)).Items);
    }

    private static DateTimeOffset Microseconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % 10));

    /// <summary>The statements this test's database was sent during <paramref name="action"/>, the access token's look-up aside.</summary>
    private async Task<List<string>> RoundTripsAsync(Func<Task> action)
    {
        commands.Clear();
        await action();
        // Only commands carry a statement's text (a physical connection's open, should the pool make one, does not).
        return [.. commands.Select(a => a.GetTagItem("db.query.text") as string)
            .OfType<string>()
            .Where(text => !text.Contains("oauth_tokens", StringComparison.Ordinal))];
    }
}
