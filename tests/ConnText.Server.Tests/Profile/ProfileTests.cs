using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Profile;

public abstract class ProfileTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;
    private HttpClient alice = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task UpdateProfile_ChangesOnlyWhatIsGiven()
    {
        using (var response = await alice.PatchAsJsonAsync("/api/v1/me", new UpdateProfileRequest("Alice Liddell", "In a meeting", "alice@example.org")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await alice.PatchAsJsonAsync("/api/v1/me", new UpdateProfileRequest(StatusText: "")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var me = await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me");
        Assert.Equal("Alice Liddell", me!.DisplayName);
        Assert.Null(me.StatusText);
        Assert.Equal("alice@example.org", me.Email);
        Assert.Equal(["admin"], me.Roles);
    }

    [Fact]
    public async Task UpdateProfile_InvalidValues_NameTheFields_AndChangeNothing()
    {
        using var response = await alice.PatchAsJsonAsync("/api/v1/me",
            new UpdateProfileRequest(DisplayName: "", StatusText: new string('s', 141), Email: "no-at-sign"));
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        foreach (var field in new[] { "displayName", "statusText", "email" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), field);
        }

        var me = await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me");
        Assert.Equal("alice", me!.DisplayName);
    }

    [Fact]
    public async Task Directory_PrefixSearchIgnoringCase_Paginated()
    {
        foreach (var name in new[] { "bob", "bobby", "boris", "carol" })
        {
            await SignedInUsers.RegisterAsync(server, name);
        }

        var page1 = await alice.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=BO&pageSize=2");
        Assert.Equal(["bob", "bobby"], page1!.Items.Select(u => u.Username).ToArray());
        Assert.True(page1.HasMore);
        var page2 = await alice.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=bo&pageSize=2&page=2");
        Assert.Equal(["boris"], page2!.Items.Select(u => u.Username).ToArray());
        Assert.False(page2.HasMore);

        using var invalid = await alice.GetAsync("/api/v1/users?pageSize=1000");
        await invalid.AssertProblemAsync(400, ProblemTypes.Validation);
        using var notANumber = await alice.GetAsync("/api/v1/users?page=abc");
        await notANumber.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
    }

    [Fact]
    public async Task ChangePassword_NeedsTheCurrentOne_AndCanEndOtherSessions()
    {
        using var otherDevice = await SignedInUsers.SignInAsync(server, "alice");

        using (var wrong = await alice.PostAsJsonAsync("/api/v1/me/password", new ChangePasswordRequest("not it", "a new long passphrase")))
        {
            var problem = await wrong.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("currentPassword", out _));
        }

        using (var changed = await alice.PostAsJsonAsync("/api/v1/me/password",
                   new ChangePasswordRequest(SignedInUsers.Password, "a new long passphrase", EndOtherSessions: true)))
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }

        using (var ended = await otherDevice.GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        }

        using (var current = await alice.GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        }

        using var withNew = await SignedInUsers.SignInAsync(server, "alice", "a new long passphrase");
        using var ok = await withNew.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}

public sealed class SqliteProfileTests() : ProfileTests(Provider.Sqlite);

public sealed class PostgresProfileTests() : ProfileTests(Provider.Postgres);
