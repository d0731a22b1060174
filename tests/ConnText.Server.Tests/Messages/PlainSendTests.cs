using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Messages;

/// <summary>
/// The plain send (a member's text without files, reply or mention: ADR 0025 on PostgreSQL, ADR 0026 on SQLite) beside
/// the EF Core transaction every other send takes: both number one conversation's events alike and store the same rows.
/// </summary>
public abstract class PlainSendTests(Provider provider) : IAsyncLifetime
{
    protected ServerInstance Server { get; private set; } = null!;

    protected HttpClient Alice { get; private set; } = null!;

    protected HttpClient Bob { get; private set; } = null!;

    protected Guid BobId { get; private set; }

    public async Task InitializeAsync()
    {
        // The call sweeper's queries (every second by default) would be counted with a send's; a minute is its longest.
        Server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?> { ["ConnText:Calls:SweepInterval"] = "00:01:00" });
        Alice = await SignedInUsers.RegisterAndSignInAsync(Server, "alice");
        Bob = await SignedInUsers.RegisterAndSignInAsync(Server, "bob");
        BobId = await Bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        Alice.Dispose();
        Bob.Dispose();
        await Server.DisposeAsync();
    }

    [Fact]
    public async Task BothPaths_NumberOneConversationAlike_RefusalsAndRetriesTakeNoSequence()
    {
        var group = await Alice.CreateGroupAsync("one sequence", BobId);
        var path = $"/api/v1/conversations/{group.Id}/messages";
        var one = await Alice.SendAsync(group.Id, "one");                                       // 1, the plain path
        var twoId = Guid.NewGuid();
        var (_, two) = await Alice.TrySendAsync(group.Id, "two @bob", twoId);                     // 2, the transaction
        var retryId = Guid.NewGuid();
        var (_, three) = await Bob.TrySendAsync(group.Id, "three", retryId);                     // 3
        var (retryStatus, retried) = await Bob.TrySendAsync(group.Id, "three, again", retryId);  // the same message
        // A retry found across paths: each path reads the clientMessageId the other stored.
        var (crossStatus, crossed) = await Bob.TrySendAsync(group.Id, "three, @alice", retryId);
        var (backStatus, back) = await Alice.TrySendAsync(group.Id, "two, without a mention", twoId);
        using var carol = await SignedInUsers.RegisterAndSignInAsync(Server, "carol");
        using (var stranger = await carol.PostAsJsonAsync(path, new SendMessageRequest(Guid.NewGuid(), "let me in")))
        {
            await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        var four = await Alice.SendAsync(group.Id, "four");

        Assert.Equal((1L, 2L, 3L, 4L), (one.Sequence, two.Sequence, three.Sequence, four.Sequence));
        Assert.Equal((HttpStatusCode.OK, three.Id, 3L, "three"), (retryStatus, retried.Id, retried.Sequence, retried.Text));
        Assert.Equal((HttpStatusCode.OK, three.Id, HttpStatusCode.OK, two.Id), (crossStatus, crossed.Id, backStatus, back.Id));
        Assert.Equal([BobId], two.Mentions);
        var events = await Alice.EventsAsync(group.Id, after: 0);
        Assert.Equal(4, events.LastSequence);
        Assert.Equal(
            [(1L, one.Id, "one"), (2L, two.Id, "two @bob"), (3L, three.Id, "three"), (4L, four.Id, "four")],
            events.Items.Select(e => (e.Sequence, e.MessageId!.Value, e.Message!.Text!)));
        Assert.All(events.Items, e => Assert.Equal(ConversationEventKinds.MessageCreated, e.Kind));

        // What the one-round-trip path stored reads back as the transaction's rows do.
        var history = await Alice.HistoryAsync(group.Id, "limit=10");
        var stored = Assert.Single(history.Items, m => m.Id == four.Id);
        // (The send's response has the server clock's 100 ns, on either path; the database keeps less.)
        var createdAt = AsStored(four.CreatedAt);
        Assert.Equal((MessageKinds.Text, four.SenderId, createdAt, (DateTimeOffset?)null), (stored.Kind, stored.SenderId, stored.CreatedAt, stored.EditedAt));
        var conversation = (await Alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{group.Id}"))!;
        Assert.Equal(createdAt, conversation.LastActivityAt);
    }

    [Fact]
    public async Task PeerToPeerConversation_RefusesAPlainText_AndStoresNothing()
    {
        using var create = await Alice.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.PeerToPeer, [BobId]));
        var p2p = (await create.Content.ReadFromJsonAsync<ConversationResponse>())!;

        using var refused = await Alice.PostAsJsonAsync(
            $"/api/v1/conversations/{p2p.Id}/messages", new SendMessageRequest(Guid.NewGuid(), "hello"));

        await refused.AssertProblemAsync(409, ProblemTypes.Conflict);
        Assert.Empty((await Alice.EventsAsync(p2p.Id, after: 0)).Items);
    }

    /// <summary>A time as the database keeps it: PostgreSQL in microseconds, SQLite (EF Core's binary form) in 100 µs.</summary>
    private DateTimeOffset AsStored(DateTimeOffset time) => time.AddTicks(-(time.Ticks % (provider == Provider.Postgres ? 10 : 1000)));
}

/// <summary>
/// On PostgreSQL a plain text is one round trip (one batch), counted from Npgsql's own tracing (one activity per
/// command or batch sent) for this test's database only.
/// </summary>
public sealed class PostgresPlainSendTests : PlainSendTests, IDisposable
{
    private readonly ConcurrentQueue<Activity> commands = new();
    private readonly ActivityListener listener;

    public PostgresPlainSendTests()
        : base(Provider.Postgres)
    {
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Server is not null && activity.Tags.Any(t => t.Value == Server.Database.PostgresName))
                {
                    commands.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
    }

    public void Dispose() => listener.Dispose();

    [Fact]
    public async Task PlainText_IsOneRoundTrip_MentionsAndRepliesTakeTheTransaction_WithoutSavepoints()
    {
        var group = await Alice.CreateGroupAsync("paths", BobId);
        var first = await Alice.SendAsync(group.Id, "warm up"); // the first use of a pooled connection prepares statements

        var plain = await RoundTripsAsync(() => Alice.SendAsync(group.Id, "hello, no mention here (mail me at a@b.example)"));
        var mention = await RoundTripsAsync(() => Alice.SendAsync(group.Id, "hi @bob"));
        var reply = await RoundTripsAsync(() => Bob.TrySendAsync(group.Id, "replying", replyTo: first.Id));

        Assert.Single(plain);
        Assert.Contains("FOR NO KEY UPDATE", plain[0], StringComparison.Ordinal);
        // The transaction (its COMMIT is not traced): the sequence, the check, the names' look-up and the inserts, then
        // the response reads the stored mentions; a reply looks its target up instead.
        Assert.True(mention.Count == 5, string.Join("\n---\n", mention)); // the statements, should it fail
        Assert.True(reply.Count == 4, string.Join("\n---\n", reply));
        Assert.DoesNotContain(mention.Concat(reply), text => text.Contains("SAVEPOINT", StringComparison.Ordinal));
    }

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

/// <summary>
/// On SQLite a plain text is stored by the server's own two commands, not by EF Core: counted from EF Core's diagnostic
/// events (one per command it runs) for this test's database only.
/// </summary>
public sealed class SqlitePlainSendTests : PlainSendTests, IDisposable, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private readonly ConcurrentQueue<string> commands = new();
    private readonly List<IDisposable> subscriptions = [];
    private string? connectionString;

    public SqlitePlainSendTests()
        : base(Provider.Sqlite) => subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));

    public void Dispose()
    {
        lock (subscriptions)
        {
            subscriptions.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task PlainText_TakesNoEfCoreCommand_MentionsAndRepliesDo()
    {
        using (var scope = Server.Services.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>().Database.GetConnectionString();
        }

        var group = await Alice.CreateGroupAsync("paths", BobId);
        var first = await Alice.SendAsync(group.Id, "warm up");

        var plain = await EfCommandsAsync(() => Alice.SendAsync(group.Id, "hello, no mention here (mail me at a@b.example)"));
        var mention = await EfCommandsAsync(() => Alice.SendAsync(group.Id, "hi @bob"));
        var reply = await EfCommandsAsync(() => Bob.TrySendAsync(group.Id, "replying", replyTo: first.Id));

        Assert.True(plain.Count == 0, string.Join("\n---\n", plain)); // the statements, should it fail
        Assert.Contains(mention, text => text.Contains("INSERT INTO \"messages\"", StringComparison.Ordinal));
        Assert.Contains(reply, text => text.Contains("INSERT INTO \"messages\"", StringComparison.Ordinal));
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener value)
    {
        if (value.Name == DbLoggerCategory.Name)
        {
            lock (subscriptions)
            {
                subscriptions.Add(value.Subscribe(this));
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key == RelationalEventId.CommandExecuted.Name && value.Value is CommandExecutedEventData executed
            && connectionString is not null && executed.Command.Connection?.ConnectionString == connectionString)
        {
            commands.Enqueue(executed.Command.CommandText);
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }

    /// <summary>The commands EF Core ran on this test's database during <paramref name="action"/>, the access token's look-up aside.</summary>
    private async Task<List<string>> EfCommandsAsync(Func<Task> action)
    {
        commands.Clear();
        await action();
        return [.. commands.Where(text => !text.Contains("oauth_", StringComparison.Ordinal))];
    }
}
