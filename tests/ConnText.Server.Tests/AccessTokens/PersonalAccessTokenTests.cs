using System.Net;
using System.Net.Http.Json;
using System.Text;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.AccessTokens;

public abstract class PersonalAccessTokenTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient admin = null!;
    private HttpClient bob = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        admin = await SignedInUsers.RegisterAndSignInAsync(server, "admin1");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Token_IsShownOnce_StoredHashed_AndAuthenticatesScripts()
    {
        var created = await CreateAsync(bob, "deploy bot", "read", "write");
        Assert.StartsWith("ctp_", created.Token, StringComparison.Ordinal);
        Assert.Equal(["read", "write"], created.Details.Scopes);

        using var script = OAuthBrowser.ApiClient(server.Address, created.Token);
        var me = await script.GetFromJsonAsync<ProfileResponse>("/api/v1/me");
        Assert.Equal("bob", me!.Username);

        // Listing never shows the secret again; the database holds only its hash.
        var listed = await bob.GetStringAsync("/api/v1/me/tokens");
        Assert.DoesNotContain(created.Token, listed, StringComparison.Ordinal);
        Assert.Contains(created.Details.Prefix, listed, StringComparison.Ordinal);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        var stored = await db.PersonalAccessTokens.SingleAsync(t => t.Id == created.Details.Id);
        Assert.DoesNotContain(created.Token, Encoding.UTF8.GetString(stored.SecretHash), StringComparison.Ordinal);
        Assert.Equal(32, stored.SecretHash.Length);
    }

    [Fact]
    public async Task Scopes_AreEnforced()
    {
        var readOnly = await CreateAsync(bob, "reader", "read");
        using var script = OAuthBrowser.ApiClient(server.Address, readOnly.Token);

        using (var read = await script.GetAsync("/api/v1/users?q=b"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using (var write = await script.PatchAsJsonAsync("/api/v1/me", new UpdateProfileRequest(StatusText: "hi")))
        {
            await write.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        // A token cannot mint tokens or manage sessions: those need the app's interactive login.
        using (var mint = await script.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("x", ["read"])))
        {
            Assert.Equal(HttpStatusCode.Forbidden, mint.StatusCode);
        }

        var writer = await CreateAsync(bob, "writer", "write");
        using var writeScript = OAuthBrowser.ApiClient(server.Address, writer.Token);
        using (var write = await writeScript.PatchAsJsonAsync("/api/v1/me", new UpdateProfileRequest(StatusText: "from a bot")))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        using (var adminCall = await writeScript.GetAsync("/api/v1/admin/users"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, adminCall.StatusCode);
        }
    }

    [Fact]
    public async Task AdminScope_OnlyForAdmins_AndNeededForAdminRoutes()
    {
        using (var refused = await bob.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("x", ["admin"])))
        {
            await refused.AssertProblemAsync(403, ProblemTypes.Forbidden);
        }

        var adminToken = await CreateAsync(admin, "ops", "admin");
        using var ops = OAuthBrowser.ApiClient(server.Address, adminToken.Token);
        using var users = await ops.GetAsync("/api/v1/admin/users");
        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
    }

    [Fact]
    public async Task Revoked_OrExpired_Token_IsRejectedOnItsNextRequest()
    {
        var revoked = await CreateAsync(bob, "revoke me", "read");
        var expired = await CreateAsync(bob, "expire me", "read");
        using var revokedClient = OAuthBrowser.ApiClient(server.Address, revoked.Token);
        using var expiredClient = OAuthBrowser.ApiClient(server.Address, expired.Token);
        using (var ok = await revokedClient.GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var delete = await bob.DeleteAsync($"/api/v1/me/tokens/{revoked.Details.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            var entry = await db.PersonalAccessTokens.SingleAsync(t => t.Id == expired.Details.Id);
            entry.ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync();
        }

        foreach (var client in new[] { revokedClient, expiredClient })
        {
            using var refused = await client.GetAsync("/api/v1/me");
            await refused.AssertProblemAsync(401, ProblemTypes.Unauthorized);
        }
    }

    [Fact]
    public async Task AnotherUsersToken_CannotBeRevoked()
    {
        var token = await CreateAsync(bob, "mine", "read");
        using var attempt = await admin.DeleteAsync($"/api/v1/me/tokens/{token.Details.Id}");
        await attempt.AssertProblemAsync(404, ProblemTypes.NotFound);
        using var script = OAuthBrowser.ApiClient(server.Address, token.Token);
        using var stillWorks = await script.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task InvalidRequests_NameTheField()
    {
        using var response = await bob.PostAsJsonAsync("/api/v1/me/tokens", new { name = "", scopes = new[] { "everything" }, expiresInDays = 5000 });
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("scopes", out _));
        Assert.True(errors.TryGetProperty("expiresInDays", out _));
    }

    [Fact]
    public async Task ForgedTokens_AreRejected()
    {
        foreach (var forged in new[] { "ctp_" + new string('A', 43), "ctp_", "ctp_" + new string('x', 5000) })
        {
            using var client = OAuthBrowser.ApiClient(server.Address, forged);
            using var response = await client.GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    private static async Task<CreatedPersonalAccessTokenResponse> CreateAsync(HttpClient client, string name, params string[] scopes)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest(name, scopes));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!;
    }
}

public sealed class SqlitePersonalAccessTokenTests() : PersonalAccessTokenTests(Provider.Sqlite);

public sealed class PostgresPersonalAccessTokenTests() : PersonalAccessTokenTests(Provider.Postgres);
