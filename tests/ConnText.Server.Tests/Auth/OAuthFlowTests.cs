using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using ConnText.Contracts.Accounts;
using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Auth;

/// <summary>
/// The desktop app's sign-in (RFC 8252 + PKCE) end to end against the real server, on each database provider.
/// </summary>
public abstract class OAuthFlowTests(Provider provider) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private ServerInstance server = null!;
    private OAuthBrowser browser = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        browser = new OAuthBrowser(server.Address);
        using var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", Password, "Alice A."));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    public async Task DisposeAsync()
    {
        browser.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task CodeFlowWithPkce_IssuesTokens_ThatTheApiAccepts()
    {
        var tokens = await browser.SignInAsync("alice", Password);

        Assert.InRange(tokens.ExpiresIn, 60, 600);
        Assert.NotNull(tokens.IdToken);
        using var api = OAuthBrowser.ApiClient(server.Address, tokens.AccessToken);
        var sessions = await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions");
        var session = Assert.Single(sessions!);
        Assert.True(session.Current);
        Assert.Equal("Test laptop", session.DeviceName);
        Assert.Equal("linux", session.Platform);
        Assert.Equal(OAuthBrowser.ClientId, session.ClientId);

        var userInfo = await api.GetFromJsonAsync<JsonElement>("/connect/userinfo");
        Assert.Equal("alice", userInfo.GetProperty("preferred_username").GetString());
        Assert.Equal("Alice A.", userInfo.GetProperty("name").GetString());
    }

    [Fact]
    public async Task LoopbackRedirect_AnyPortIsAccepted_PathMustMatch()
    {
        foreach (var port in new[] { 1024, 49152, 65535 })
        {
            await browser.SignInAsync("alice", Password, port);
        }

        var verifier = OAuthBrowser.NewVerifier();
        foreach (var redirect in new[]
                 {
                     "http://127.0.0.1:50000/other/path",
                     "http://localhost:50000/oauth/callback",
                     "https://127.0.0.1:50000/oauth/callback",
                     "http://attacker.example/oauth/callback",
                     "http://127.0.0.1.attacker.example:50000/oauth/callback",
                 })
        {
            using var response = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(redirect, verifier));
            // The server never redirects to an unregistered URI: it answers the error itself.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.Contains("redirect_uri", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("plain")]
    public async Task Pkce_MissingOrPlain_IsRefused(string? method)
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50001);
        var verifier = OAuthBrowser.NewVerifier();
        using var response = await browser.FollowAsync(method is null
            ? OAuthBrowser.AuthorizeUrl(redirect, verifier: null)
            : OAuthBrowser.AuthorizeUrl(redirect, verifier, method: method));

        var error = await ErrorOfAsync(response);
        Assert.Equal("invalid_request", error);
    }

    [Fact]
    public async Task Pkce_WrongVerifier_IsRefused()
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50002);
        var code = await browser.SignInForCodeAsync("alice", Password, redirect, OAuthBrowser.NewVerifier());
        var (status, body) = await browser.RedeemAsync(code, redirect, OAuthBrowser.NewVerifier());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AuthorizationCode_IsSingleUse()
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50003);
        var verifier = OAuthBrowser.NewVerifier();
        var code = await browser.SignInForCodeAsync("alice", Password, redirect, verifier);

        var (first, tokens) = await browser.RedeemAsync(code, redirect, verifier);
        Assert.Equal(HttpStatusCode.OK, first);
        var (second, error) = await browser.RedeemAsync(code, redirect, verifier);
        Assert.Equal(HttpStatusCode.BadRequest, second);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());

        // A replayed code means it leaked: the tokens it produced are revoked too (RFC 6749 §4.1.2).
        var (refresh, _) = await browser.RefreshAsync(tokens.GetProperty("refresh_token").GetString()!);
        Assert.Equal(HttpStatusCode.BadRequest, refresh);
    }

    [Fact]
    public async Task RedirectUri_AtTokenEndpoint_MustMatchTheAuthorizationRequest()
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50004);
        var verifier = OAuthBrowser.NewVerifier();
        var code = await browser.SignInForCodeAsync("alice", Password, redirect, verifier);
        var (status, body) = await browser.RedeemAsync(code, OAuthBrowser.LoopbackRedirect(50005), verifier);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RefreshToken_RotatesOnEveryUse_AndReuseAfterTheWindowRevokesTheLogin()
    {
        var tokens = await browser.SignInAsync("alice", Password);

        var (status, body) = await browser.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, status);
        var rotated = TokenSet.From(body);
        Assert.NotEqual(tokens.RefreshToken, rotated.RefreshToken);

        // Past the reuse window (3 s by default), the first refresh token is presented again: a thief or a replay.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var (reuse, reuseBody) = await browser.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, reuse);
        Assert.Equal("invalid_grant", reuseBody.GetProperty("error").GetString());

        // The whole login is revoked: the newest refresh token and the access token stop working.
        var (latest, _) = await browser.RefreshAsync(rotated.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, latest);
        using var api = OAuthBrowser.ApiClient(server.Address, rotated.AccessToken);
        using var sessions = await api.GetAsync("/api/v1/sessions");
        Assert.Equal(HttpStatusCode.Unauthorized, sessions.StatusCode);
    }

    [Fact]
    public async Task RevokedSession_IsRejectedOnItsNextRequest()
    {
        var laptop = await browser.SignInAsync("alice", Password);
        var phone = await browser.SignInAsync("alice", Password);
        using var laptopApi = OAuthBrowser.ApiClient(server.Address, laptop.AccessToken);
        using var phoneApi = OAuthBrowser.ApiClient(server.Address, phone.AccessToken);

        var sessions = (await laptopApi.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!;
        Assert.Equal(2, sessions.Count);
        var phoneSession = sessions.Single(s => !s.Current);

        using (var revoke = await laptopApi.DeleteAsync($"/api/v1/sessions/{phoneSession.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using (var refused = await phoneApi.GetAsync("/api/v1/sessions"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var (refresh, _) = await browser.RefreshAsync(phone.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refresh);

        using var stillFine = await laptopApi.GetAsync("/api/v1/sessions");
        Assert.Equal(HttpStatusCode.OK, stillFine.StatusCode);
    }

    [Fact]
    public async Task RevokeOthers_EndsEveryOtherSession()
    {
        var keep = await browser.SignInAsync("alice", Password);
        var other1 = await browser.SignInAsync("alice", Password);
        var other2 = await browser.SignInAsync("alice", Password);
        using var api = OAuthBrowser.ApiClient(server.Address, keep.AccessToken);

        using var response = await api.PostAsync("/api/v1/sessions/revoke-others", null);
        Assert.Equal(2, await response.Content.ReadFromJsonAsync<int>());
        foreach (var other in new[] { other1, other2 })
        {
            using var otherApi = OAuthBrowser.ApiClient(server.Address, other.AccessToken);
            using var refused = await otherApi.GetAsync("/api/v1/sessions");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
    }

    [Fact]
    public async Task AnotherUsersSession_CannotBeRevoked_AndLooksMissing()
    {
        using (var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("mallory", Password)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var alice = await browser.SignInAsync("alice", Password);
        using var malloryBrowser = new OAuthBrowser(server.Address);
        var mallory = await malloryBrowser.SignInAsync("mallory", Password);
        using var aliceApi = OAuthBrowser.ApiClient(server.Address, alice.AccessToken);
        var aliceSession = (await aliceApi.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!.Single();

        using var malloryApi = OAuthBrowser.ApiClient(server.Address, mallory.AccessToken);
        using var attempt = await malloryApi.DeleteAsync($"/api/v1/sessions/{aliceSession.Id}");
        await attempt.AssertProblemAsync(404, Contracts.Problems.ProblemTypes.NotFound);

        using var stillFine = await aliceApi.GetAsync("/api/v1/sessions");
        Assert.Equal(HttpStatusCode.OK, stillFine.StatusCode);
    }

    [Fact]
    public async Task DisabledUser_CannotSignInOrRefresh()
    {
        var tokens = await browser.SignInAsync("alice", Password);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            await db.Users.Where(u => u.UserName == "alice").ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, true));
        }

        var (refresh, body) = await browser.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refresh);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());

        using var fresh = new OAuthBrowser(server.Address);
        using var loginPage = await fresh.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50006), OAuthBrowser.NewVerifier()));
        using var submitted = await fresh.SubmitLoginAsync(loginPage, "alice", Password);
        Assert.Equal(HttpStatusCode.Forbidden, submitted.StatusCode);
        Assert.Contains("disabled", await submitted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_AndUnknownUser_GetTheSameAnswer()
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50007);
        var answers = new List<(HttpStatusCode, string)>();
        foreach (var (user, password) in new[] { ("alice", "not the password"), ("nobody-here", "not the password") })
        {
            using var fresh = new OAuthBrowser(server.Address);
            using var loginPage = await fresh.FollowAsync(OAuthBrowser.AuthorizeUrl(redirect, OAuthBrowser.NewVerifier()));
            using var submitted = await fresh.SubmitLoginAsync(loginPage, user, password);
            var html = await submitted.Content.ReadAsStringAsync();
            answers.Add((submitted.StatusCode, System.Text.RegularExpressions.Regex.Match(html, "role=\"alert\">([^<]*)<").Groups[1].Value));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, answers[0].Item1);
        Assert.Equal(answers[0], answers[1]);
        Assert.Equal("Wrong username or password.", answers[0].Item2);
    }

    [Fact]
    public async Task LoginForm_WithoutAntiforgeryToken_IsRefused()
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["Username"] = "alice", ["Password"] = Password });
        using var response = await browser.Browser.PostAsync("/account/login", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Api_WithoutOrWithGarbageToken_Is401Problem()
    {
        using var anonymous = await server.Client.GetAsync("/api/v1/sessions");
        await anonymous.AssertProblemAsync(401, Contracts.Problems.ProblemTypes.Unauthorized);

        using var garbage = OAuthBrowser.ApiClient(server.Address, "not-a-token");
        using var refused = await garbage.GetAsync("/api/v1/sessions");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Revocation_OfTheRefreshToken_EndsTheLogin()
    {
        var tokens = await browser.SignInAsync("alice", Password);
        using (var revoke = await server.Client.PostAsync("/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["client_id"] = OAuthBrowser.ClientId,
                   ["token"] = tokens.RefreshToken,
                   ["token_type_hint"] = "refresh_token",
               })))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        var (refresh, _) = await browser.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refresh);
    }

    [Fact]
    public async Task EndSession_WithIdTokenHint_RevokesThatSession_AndTheBrowserLogin()
    {
        var tokens = await browser.SignInAsync("alice", Password);
        using (var logout = await browser.Browser.GetAsync(
                   $"/connect/endsession?id_token_hint={Uri.EscapeDataString(tokens.IdToken!)}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        }

        using var api = OAuthBrowser.ApiClient(server.Address, tokens.AccessToken);
        using (var refused = await api.GetAsync("/api/v1/sessions"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The browser is signed out of the server too: the next authorization shows the login page.
        using var again = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50010), OAuthBrowser.NewVerifier()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("Sign in", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("password")]
    [InlineData("client_credentials")]
    [InlineData("implicit")]
    public async Task OtherGrants_AreNotSupported(string grant)
    {
        var (status, body) = await browser.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = grant,
            ["client_id"] = OAuthBrowser.ClientId,
            ["username"] = "alice",
            ["password"] = Password,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unsupported_grant_type", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Login_EndsAtItsAbsoluteExpiry_HoweverOftenItIsRefreshed()
    {
        var tokens = await browser.SignInAsync("alice", Password);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            await db.Sessions.ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        var (refresh, body) = await browser.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refresh);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    private static async Task<string?> ErrorOfAsync(HttpResponseMessage response)
    {
        if (response.Headers.Location is { } location)
        {
            return HttpUtility.ParseQueryString(location.Query)["error"];
        }

        // Errors found before the redirect URI is validated are shown by the server itself (never redirected).
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var match = System.Text.RegularExpressions.Regex.Match(body, "error:\\s*([a-z_]+)");
        return match.Success ? match.Groups[1].Value : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
    }
}

public sealed class SqliteOAuthFlowTests() : OAuthFlowTests(Provider.Sqlite);

public sealed class PostgresOAuthFlowTests() : OAuthFlowTests(Provider.Postgres);
