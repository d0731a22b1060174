using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Admin;

public abstract class AdminTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient admin = null!;
    private HttpClient bob = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        admin = await SignedInUsers.RegisterAndSignInAsync(server, "root");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    [Theory]
    [InlineData("GET", "/api/v1/admin/users")]
    [InlineData("POST", "/api/v1/admin/invites")]
    [InlineData("GET", "/api/v1/admin/invites")]
    [InlineData("POST", "/api/v1/admin/users/00000000-0000-0000-0000-000000000001/disable")]
    public async Task NonAdmin_IsForbidden_Anonymous_IsUnauthorized(string method, string path)
    {
        using var asBob = await bob.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) });
        await asBob.AssertProblemAsync(403, ProblemTypes.Forbidden);
        using var anonymous = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) });
        await anonymous.AssertProblemAsync(401, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task ListUsers_SearchesByPrefix_AndShowsRoles()
    {
        var all = await admin.GetFromJsonAsync<PageResponse<AdminUserResponse>>("/api/v1/admin/users");
        Assert.Equal(["bob", "root"], all!.Items.Select(u => u.Username).ToArray());
        Assert.Equal(["admin"], all.Items.Single(u => u.Username == "root").Roles);

        var found = await admin.GetFromJsonAsync<PageResponse<AdminUserResponse>>("/api/v1/admin/users?q=BO");
        Assert.Equal("bob", Assert.Single(found!.Items).Username);
    }

    [Fact]
    public async Task Disable_EndsSessionsAndTokens_Enable_AllowsSignInAgain()
    {
        var bobId = (await bob.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.Id;
        using (var pat = await bob.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("bot", ["read"])))
        {
            var token = (await pat.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!.Token;
            using var disable = await admin.PostAsync($"/api/v1/admin/users/{bobId}/disable", null);
            Assert.Equal(HttpStatusCode.NoContent, disable.StatusCode);

            using var script = OAuthBrowser.ApiClient(server.Address, token);
            using var refusedScript = await script.GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.Unauthorized, refusedScript.StatusCode);
        }

        using (var refused = await bob.GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var listed = await admin.GetFromJsonAsync<PageResponse<AdminUserResponse>>("/api/v1/admin/users?q=bob");
        Assert.True(listed!.Items.Single().Disabled);
        var directory = await admin.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=bob");
        Assert.Empty(directory!.Items);

        using (var enable = await admin.PostAsync($"/api/v1/admin/users/{bobId}/enable", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, enable.StatusCode);
        }

        using var again = await SignedInUsers.SignInAsync(server, "bob");
        using var ok = await again.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task AdminCannotDisableThemselves()
    {
        var rootId = (await admin.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.Id;
        using var response = await admin.PostAsync($"/api/v1/admin/users/{rootId}/disable", null);
        await response.AssertProblemAsync(409, ProblemTypes.Conflict);
    }

    [Fact]
    public async Task ResetPassword_ReplacesIt_AndEndsSessions()
    {
        var bobId = (await bob.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.Id;
        using (var weak = await admin.PostAsJsonAsync($"/api/v1/admin/users/{bobId}/reset-password", new ResetPasswordRequest("password")))
        {
            await weak.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var reset = await admin.PostAsJsonAsync($"/api/v1/admin/users/{bobId}/reset-password", new ResetPasswordRequest("a brand new passphrase")))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        using (var refused = await bob.GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var withNew = await SignedInUsers.SignInAsync(server, "bob", "a brand new passphrase");
        using var ok = await withNew.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task UnknownUser_IsNotFound()
    {
        using var response = await admin.PostAsync($"/api/v1/admin/users/{Guid.NewGuid()}/enable", null);
        await response.AssertProblemAsync(404, ProblemTypes.NotFound);
    }
}

public sealed class SqliteAdminTests() : AdminTests(Provider.Sqlite);

public sealed class PostgresAdminTests() : AdminTests(Provider.Postgres);

/// <summary>Registration by invitation: codes are single-purpose, counted atomically, expire and can be revoked.</summary>
public abstract class InviteTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient admin = null!;
    private string sqlite = "";

    public async Task InitializeAsync()
    {
        // The first account (the admin) is created while registration is open; then the server restarts in invite mode.
        var database = await TestDatabase.CreateAsync(provider);
        sqlite = Path.Combine(Path.GetTempPath(), $"conntext-invite-{Guid.NewGuid():N}.db");
        var shared = provider == Provider.Sqlite
            ? new Dictionary<string, string?> { ["ConnectionStrings:Default"] = $"Data Source={sqlite}" }
            : [];
        await using (var open = await ServerInstance.StartAsync(provider, shared, database: database))
        {
            await SignedInUsers.RegisterAsync(open, "root");
        }

        server = await ServerInstance.StartAsync(provider,
            new Dictionary<string, string?>(shared) { ["ConnText:Accounts:RegistrationMode"] = "Invite" }, database: database);
        admin = await SignedInUsers.SignInAsync(server, "root");
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        await server.DisposeAsync();
        await server.Database.DisposeAsync();
        File.Delete(sqlite);
    }

    [Fact]
    public async Task Register_WithoutOrWithBadCode_IsRefusedNamingTheField()
    {
        foreach (var code in new[] { null, "cti_not-a-real-code" })
        {
            using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
                new RegisterAccountRequest("carol", SignedInUsers.Password, InviteCode: code));
            var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("inviteCode", out _));
        }
    }

    [Fact]
    public async Task Code_CreatesAtMostMaxUsesAccounts_EvenConcurrently()
    {
        var invite = await CreateInviteAsync(maxUses: 2);
        var attempts = Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
                new RegisterAccountRequest($"guest{i}", SignedInUsers.Password, InviteCode: invite.Code));
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(attempts);
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.All(statuses.Where(s => s != HttpStatusCode.Created), s => Assert.Equal(HttpStatusCode.BadRequest, s));

        var listed = await admin.GetFromJsonAsync<List<InviteResponse>>("/api/v1/admin/invites");
        Assert.Equal(2, listed!.Single(i => i.Id == invite.Details.Id).Uses);
    }

    [Fact]
    public async Task FailedRegistration_DoesNotUseUpTheCode()
    {
        var invite = await CreateInviteAsync(maxUses: 1);
        using (var weak = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("dave", "password", InviteCode: invite.Code)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        }

        using (var taken = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("root", SignedInUsers.Password, InviteCode: invite.Code)))
        {
            Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        }

        using var ok = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("dave", SignedInUsers.Password, InviteCode: invite.Code));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }

    [Fact]
    public async Task RevokedCode_IsRefused()
    {
        var invite = await CreateInviteAsync(maxUses: 5);
        using (var revoke = await admin.DeleteAsync($"/api/v1/admin/invites/{invite.Details.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("erin", SignedInUsers.Password, InviteCode: invite.Code));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<CreatedInviteResponse> CreateInviteAsync(int maxUses)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/invites", new CreateInviteRequest(maxUses, 24, "for tests"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedInviteResponse>())!;
    }
}

public sealed class SqliteInviteTests() : InviteTests(Provider.Sqlite);

public sealed class PostgresInviteTests() : InviteTests(Provider.Postgres);
