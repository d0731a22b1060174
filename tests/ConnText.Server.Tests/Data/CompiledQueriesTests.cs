using System.Net.Http.Headers;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;

namespace ConnText.Server.Tests.Data;

/// <summary>
/// The compiled queries (the history page, the personal access token look-up) with both database providers in one
/// process, as this suite runs them: each server must run its own provider's query. Before PerModelQuery, a compiled
/// query recompiled itself for whichever model called it last and the other server's requests failed with 500.
/// </summary>
public sealed class CompiledQueriesTests
{
    [Fact]
    public async Task SqliteAndPostgres_SideBySide_EachServerPagesItsOwnHistory_WithTokens()
    {
        await using var sqlite = await ServerInstance.StartAsync(Provider.Sqlite);
        await using var postgres = await ServerInstance.StartAsync(Provider.Postgres);
        var sides = new List<(HttpClient Script, Guid Conversation, string Marker)>();
        foreach (var (server, marker) in new[] { (sqlite, "sqlite"), (postgres, "postgres") })
        {
            using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
            var group = await alice.CreateGroupAsync($"{marker} group");
            for (var i = 1; i <= 3; i++)
            {
                await alice.SendAsync(group.Id, $"{marker} {i}");
            }

            using var minted = await alice.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("script", ["read"]));
            var token = (await minted.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!.Token;
            var script = new HttpClient { BaseAddress = server.Address };
            script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            sides.Add((script, group.Id, marker));
        }

        try
        {
            // Interleaved and concurrent: every page, newest, older and newer, from both servers at once.
            var reads = Enumerable.Range(0, 60).Select(async i =>
            {
                var (script, conversation, marker) = sides[i % 2];
                var (query, expected) = (i / 2 % 3) switch
                {
                    0 => ("limit=2", new[] { 2, 3 }),
                    1 => ("before=3&limit=5", new[] { 1, 2 }),
                    _ => ("after=1", new[] { 2, 3 }),
                };
                var page = await script.HistoryAsync(conversation, query);
                Assert.Equal(expected.Select(n => $"{marker} {n}"), page.Items.Select(m => m.Text));
            });
            await Task.WhenAll(reads);
        }
        finally
        {
            foreach (var side in sides)
            {
                side.Script.Dispose();
            }
        }
    }
}
