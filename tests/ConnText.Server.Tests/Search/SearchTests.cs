using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Search;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;

namespace ConnText.Server.Tests.Search;

public abstract class SearchTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?> { ["ConnText:Search:SnippetChars"] = "80" });
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
    public async Task Search_MessagesInOthersConversations_NeverFound()
    {
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var shared = await alice.CreateGroupAsync("shared", bobId);
        var secret = await bob.CreateGroupAsync("secret", await carol.MyIdAsync());
        var mine = await alice.SendAsync(shared.Id, "zebra crossing at noon");
        var theirs = await carol.SendAsync(secret.Id, "zebra secrets");

        Assert.Equal([mine.Id], (await SearchAsync(alice, "zebra")).Items.Select(h => h.Message.Id));
        Assert.Equal([theirs.Id, mine.Id], (await SearchAsync(bob, "zebra")).Items.Select(h => h.Message.Id));
        Assert.Equal([theirs.Id], (await SearchAsync(bob, "zebra", $"&conversationId={secret.Id}")).Items.Select(h => h.Message.Id));

        // A conversation I am not in is answered like a missing one, as on every other route.
        using (var stranger = await alice.GetAsync($"/api/v1/search/messages?q=zebra&conversationId={secret.Id}"))
        {
            await stranger.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        using (var missing = await alice.GetAsync($"/api/v1/search/messages?q=zebra&conversationId={Guid.NewGuid()}"))
        {
            await missing.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        using var anonymous = await server.Client.GetAsync("/api/v1/search/messages?q=zebra");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        // A member who leaves no longer finds the conversation's messages.
        using (var left = await carol.PostAsync($"/api/v1/conversations/{secret.Id}/leave", null))
        {
            Assert.True(left.IsSuccessStatusCode, await left.Content.ReadAsStringAsync());
        }

        Assert.Empty((await SearchAsync(carol, "zebra")).Items);
    }

    [Fact]
    public async Task Search_MatchedWords_HighlightedAsRanges()
    {
        var group = await alice.CreateGroupAsync("highlights", bobId);
        const string text = "Hello World, the world is wide; worldwide \"WORLD\"";
        var sent = await alice.SendAsync(group.Id, text);

        var exact = Assert.Single((await SearchAsync(bob, "world")).Items);
        Assert.Equal(sent.Id, exact.Message.Id);
        Assert.Equal(text, exact.Message.Text);
        Assert.Equal((text, 0), (exact.Snippet, exact.SnippetOffset));
        Assert.Equal(["World", "world", "WORLD"], exact.Highlights.Select(r => exact.Snippet.Substring(r.Offset, r.Length)));

        var prefix = Assert.Single((await SearchAsync(bob, "worl* hello")).Items);
        Assert.Equal(["Hello", "World", "world", "worldwide", "WORLD"], prefix.Highlights.Select(r => prefix.Snippet.Substring(r.Offset, r.Length)));

        // Every word must occur.
        Assert.Empty((await SearchAsync(bob, "world absent")).Items);

        // A long message: the snippet is a window around the first match, and its offset maps the ranges onto the text.
        var filler = string.Join(' ', Enumerable.Repeat("lorem ipsum", 40));
        var longText = $"{filler} the needle is here {filler} needle";
        var longSent = await alice.SendAsync(group.Id, longText);
        var hit = Assert.Single((await SearchAsync(bob, "NEEDLE")).Items);
        Assert.Equal(longSent.Id, hit.Message.Id);
        Assert.True(hit.Snippet.Length < 120, hit.Snippet);
        Assert.True(hit.SnippetOffset > 0);
        Assert.Equal(longText.Substring(hit.SnippetOffset, hit.Snippet.Length), hit.Snippet);
        var range = Assert.Single(hit.Highlights);
        Assert.Equal(filler.Length + 5, hit.SnippetOffset + range.Offset);
        Assert.Equal("needle", hit.Snippet.Substring(range.Offset, range.Length));
    }

    [Fact]
    public async Task Search_PagedWithCursor_EveryHitOnceNewestFirst()
    {
        var group = await alice.CreateGroupAsync("paging", bobId);
        var sent = new List<MessageResponse>();
        for (var i = 0; i < 7; i++)
        {
            sent.Add(await (i % 2 == 0 ? alice : bob).SendAsync(group.Id, $"apple number {i}"));
            await alice.SendAsync(group.Id, $"pear number {i}");
        }

        var first = await SearchAsync(alice, "apple", "&limit=3");
        Assert.Equal(3, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        // New messages arriving between pages do not shift the next pages.
        await bob.SendAsync(group.Id, "apple latecomer");
        var second = await SearchAsync(alice, "apple", $"&limit=3&before={first.NextCursor}");
        var third = await SearchAsync(alice, "apple", $"&limit=3&before={second.NextCursor}");
        Assert.Single(third.Items);
        Assert.Null(third.NextCursor);

        var all = first.Items.Concat(second.Items).Concat(third.Items).Select(h => h.Message.Sequence).ToList();
        Assert.Equal(sent.Select(m => m.Sequence).OrderDescending(), all);

        var everything = await SearchAsync(alice, "number", "&limit=50");
        Assert.Equal(14, everything.Items.Count);
        Assert.Null(everything.NextCursor);
    }

    [Fact]
    public async Task Search_EditedAndDeletedMessages_IndexFollows()
    {
        var group = await alice.CreateGroupAsync("changes", bobId);
        var message = await alice.SendAsync(group.Id, "orange juice");
        var other = await alice.SendAsync(group.Id, "orange peel");
        Assert.Equal(2, (await SearchAsync(bob, "orange")).Items.Count);

        await alice.PatchAsJsonAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}", new EditMessageRequest("banana juice")).OkMessageAsync();
        Assert.Equal([other.Id], (await SearchAsync(bob, "orange")).Items.Select(h => h.Message.Id));
        var edited = Assert.Single((await SearchAsync(bob, "banana")).Items);
        Assert.Equal(("banana juice", message.Id), (edited.Message.Text, edited.Message.Id));
        Assert.NotNull(edited.Message.EditedAt);

        await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}").OkMessageAsync();
        await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{other.Id}").OkMessageAsync();
        Assert.Empty((await SearchAsync(bob, "banana")).Items);
        Assert.Empty((await SearchAsync(bob, "orange")).Items);
        Assert.Empty((await SearchAsync(bob, "juice")).Items);

        // The index still works for new text after the deletes (an external-content FTS index out of step would fail here).
        var again = await alice.SendAsync(group.Id, "orange again");
        Assert.Equal([again.Id], (await SearchAsync(bob, "orange")).Items.Select(h => h.Message.Id));
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("\"unbalanced quote")]
    [InlineData("NEAR(alpha")]
    [InlineData("alpha NEAR/3 beta")]
    [InlineData("*")]
    [InlineData("**alpha**")]
    [InlineData("alpha OR")]
    [InlineData("AND")]
    [InlineData("NOT alpha")]
    [InlineData("-alpha")]
    [InlineData("'")]
    [InlineData("alpha:*")]
    [InlineData("!(alpha | beta) & <->")]
    [InlineData("\\")]
    [InlineData("%_")]
    [InlineData("'; DROP TABLE messages; --")]
    [InlineData("Text:alpha")]
    [InlineData("{Text}: ^alpha + beta")]
    [InlineData("\u0000alpha")]
    [InlineData("naïve 🙂 日本語")]
    public async Task Search_HostileQuery_NeverAServerError(string query)
    {
        var group = await alice.CreateGroupAsync("hostile", bobId);
        var alpha = await alice.SendAsync(group.Id, "alpha beta gamma");
        using var response = await alice.GetAsync($"/api/v1/search/messages?q={Uri.EscapeDataString(query)}");
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            await response.AssertProblemAsync(400, ProblemTypes.Validation);
            return;
        }

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var page = (await response.Content.ReadFromJsonAsync<SearchPageResponse>())!;
        // Operators are only separators: the message is found exactly when every word of the query is one of its words.
        var words = System.Text.RegularExpressions.Regex.Matches(query, @"[\p{L}\p{N}\p{M}]+").Select(m => m.Value.ToLowerInvariant()).ToList();
        var found = words.All(w => w is "alpha" or "beta" or "gamma");
        Assert.Equal(found ? new[] { alpha.Id } : [], page.Items.Select(h => h.Message.Id));
    }

    [Theory]
    [InlineData("q=", "q")]
    [InlineData("q=%20%20", "q")]
    [InlineData("q=%22%2A%28", "q")]
    [InlineData("q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q", "q")]
    [InlineData("q=alpha&limit=0", "limit")]
    [InlineData("q=alpha&limit=51", "limit")]
    [InlineData("q=alpha&before=not-a-cursor", "before")]
    [InlineData("q=alpha&before=AAAA", "before")]
    public async Task Search_InvalidParameters_ValidationProblemNamingTheField(string query, string field)
    {
        using var response = await alice.GetAsync($"/api/v1/search/messages?{query}");
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Search_QueryLongerThanLimit_ValidationProblem()
    {
        using var response = await alice.GetAsync($"/api/v1/search/messages?q={new string('a', 257)}");
        await response.AssertProblemAsync(400, ProblemTypes.Validation);
    }

    private static async Task<SearchPageResponse> SearchAsync(HttpClient client, string query, string extra = "")
    {
        using var response = await client.GetAsync($"/api/v1/search/messages?q={Uri.EscapeDataString(query)}{extra}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SearchPageResponse>())!;
    }
}

public sealed class SqliteSearchTests() : SearchTests(Provider.Sqlite);

public sealed class PostgresSearchTests() : SearchTests(Provider.Postgres);
