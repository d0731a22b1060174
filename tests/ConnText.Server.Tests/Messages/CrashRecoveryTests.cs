using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Messages;

/// <summary>
/// The no-loss guarantee under the worst stop: the server process is killed (SIGKILL) while clients are sending.
/// Clients keep every send they had no answer for and retry it with the same client message id after the restart,
/// as the apps do; afterwards every acknowledged message is stored exactly once, and sequences have no gap.
/// </summary>
public abstract class CrashRecoveryTests(Provider provider) : IAsyncLifetime
{
    private TestDatabase database = null!;
    private ServerNode node = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(provider);
        node = await ServerNode.StartAsync(database);
    }

    public async Task DisposeAsync()
    {
        await node.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task ServerKilledMidTraffic_EveryAcknowledgedMessageStoredOnce_RetriesStoredOnce()
    {
        await SignedInUsers.RegisterAsync(node.Address, "alice");
        await SignedInUsers.RegisterAsync(node.Address, "bob");
        using var alice = await SignedInUsers.SignInAsync(node.Address, "alice");
        using var bob = await SignedInUsers.SignInAsync(node.Address, "bob");
        var group = await alice.CreateGroupAsync("crash", await bob.MyIdAsync());

        var acknowledged = new ConcurrentDictionary<Guid, long>();
        var unanswered = new ConcurrentQueue<(HttpClient Client, Guid Id, string Text)>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var client = i % 2 == 0 ? alice : bob;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var id = Guid.NewGuid();
                var text = $"sender {i} message {n}";
                try
                {
                    using var response = await client.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                        new SendMessageRequest(id, text, null));
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                    {
                        acknowledged[id] = (await response.Content.ReadFromJsonAsync<MessageResponse>())!.Sequence;
                        continue;
                    }

                    unanswered.Enqueue((client, id, text)); // e.g. 503 while the database went away with the process
                }
                catch (HttpRequestException)
                {
                    // No answer: stored or not, only a retry with the same id can tell.
                    unanswered.Enqueue((client, id, text));
                    await Task.Delay(50);
                }
            }
        })).ToList();

        // Let traffic build up, then kill the server in the middle of it.
        while (acknowledged.Count < 40)
        {
            await Task.Delay(20);
        }

        await node.KillAsync();
        await Task.Delay(300); // senders see the refused connections
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        var beforeCrash = acknowledged.Count;

        await node.StartAsync();
        foreach (var (client, id, text) in unanswered)
        {
            using var retried = await client.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages", new SendMessageRequest(id, text, null));
            Assert.True(retried.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await retried.Content.ReadAsStringAsync());
            acknowledged[id] = (await retried.Content.ReadFromJsonAsync<MessageResponse>())!.Sequence;
        }

        var events = new List<ConversationEventResponse>();
        var page = await alice.EventsAsync(group.Id, after: 0);
        events.AddRange(page.Items);
        while (page.HasMore)
        {
            page = await alice.EventsAsync(group.Id, after: events[^1].Sequence);
            events.AddRange(page.Items);
        }

        var messages = events.Where(e => e.Kind == ConversationEventKinds.MessageCreated).ToList();
        Assert.True(beforeCrash >= 40, $"only {beforeCrash} messages before the crash");
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        var stored = new Dictionary<Guid, long>();
        foreach (var e in messages)
        {
            Assert.True(stored.TryAdd(e.Message!.ClientMessageId!.Value, e.Sequence), $"client id {e.Message.ClientMessageId} stored twice");
        }

        // Every acknowledged message (before the crash, and each retry) is there once, at the sequence it was acknowledged with;
        // nothing is there that no client sent.
        foreach (var (id, sequence) in acknowledged)
        {
            Assert.True(stored.TryGetValue(id, out var at), $"acknowledged message {id} is missing");
            Assert.Equal(sequence, at);
        }

        Assert.Equal(acknowledged.Count, stored.Count);
    }
}

public sealed class SqliteCrashRecoveryTests() : CrashRecoveryTests(Provider.Sqlite);

public sealed class PostgresCrashRecoveryTests() : CrashRecoveryTests(Provider.Postgres);
