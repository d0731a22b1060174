using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.TwoFactor;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Browser.Tests.Auth;

/// <summary>
/// The desktop app's sign-in as a person does it: the app opens the authorize URL in the system browser (here real
/// Chromium, which enforces the pages' Content Security Policy, SameSite cookies and HTML form rules), the person
/// types into the server's pages, and the browser carries the code to the app's loopback listener.
/// </summary>
[Collection(ChromiumTestGroup.Name)]
public sealed partial class DesktopSignInTests(Chromium chromium) : IAsyncLifetime
{
    private readonly string verifier = OAuthBrowser.NewVerifier();
    private readonly string state = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private ServerInstance server = null!;
    private BrowserTab tab = null!;
    private DesktopAppListener app = null!;

    private IPage Page => tab.Page;

    private string AuthorizeUrl => new Uri(server.Address, OAuthBrowser.AuthorizeUrl(app.RedirectUri, verifier, state)).AbsoluteUri;

    public async Task InitializeAsync()
    {
        server = await Servers.StartAsync();
        tab = await BrowserTab.OpenAsync(chromium);
        app = DesktopAppListener.Start();
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await tab.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task DesktopSignIn_InTheSystemBrowser_RedirectsTheCodeToTheAppsLoopbackListener()
    {
        await SignedInUsers.RegisterAsync(server, "alice");

        await Page.GotoAsync(AuthorizeUrl);
        await Expect(Page).ToHaveURLAsync(LoginPageUrl());
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        tab.AssertNoProblems("on the login page");

        await Page.GetByLabel("Username").FillAsync("alice");
        await Page.GetByLabel("Password").FillAsync(SignedInUsers.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        var code = await CodeAtTheAppAsync();
        await Expect(Page.GetByText(DesktopAppListener.ClosePageText)).ToBeVisibleAsync();
        Assert.StartsWith(app.RedirectUri + "?", Page.Url, StringComparison.Ordinal);
        tab.AssertNoProblems("between the login page and the app");

        var profile = await ProfileAsync(code);
        Assert.Equal("alice", profile.Username);
    }

    [Fact]
    public async Task Registration_ThroughTheCreateAccountLink_SignsInAndRedirectsTheCodeToTheApp()
    {
        await Page.GotoAsync(AuthorizeUrl);
        await Page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Create an account" })).ToBeVisibleAsync();
        tab.AssertNoProblems("on the registration page");

        await Page.GetByLabel("Username").FillAsync("bob");
        await Page.GetByLabel("Display name").FillAsync("Bob Builder");
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(SignedInUsers.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        var code = await CodeAtTheAppAsync();
        await Expect(Page.GetByText(DesktopAppListener.ClosePageText)).ToBeVisibleAsync();
        tab.AssertNoProblems("between the registration page and the app");

        var profile = await ProfileAsync(code);
        Assert.Equal("bob", profile.Username);
        Assert.Equal("Bob Builder", profile.DisplayName);
    }

    [Fact]
    public async Task Registration_CommonPassword_ShowsTheReasonAtThePasswordField_AndDoesNotNavigateToTheApp()
    {
        await Page.GotoAsync(AuthorizeUrl);
        await Page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await Page.GetByLabel("Username").FillAsync("carol");
        var password = Page.GetByLabel("Password", new() { Exact = true });
        await password.FillAsync("password123");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        await Expect(Page.Locator("#password ~ .field-error")).ToHaveTextAsync("This password is one of the most commonly used ones; choose another.");
        await Expect(password).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Page.GetByLabel("Username")).ToHaveValueAsync("carol");
        await Expect(Page.GetByLabel("Username")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Empty(app.Requests);
    }

    [Fact]
    public async Task WrongPassword_ShowsTheErrorOnThePage_AndDoesNotNavigateToTheApp()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        await Page.GotoAsync(AuthorizeUrl);

        await Page.GetByLabel("Username").FillAsync("alice");
        await Page.GetByLabel("Password").FillAsync("not the password");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong username or password.");
        Assert.StartsWith(new Uri(server.Address, "/account/login").AbsoluteUri, Page.Url, StringComparison.Ordinal);
        // The username stays, the password does not.
        await Expect(Page.GetByLabel("Username")).ToHaveValueAsync("alice");
        await Expect(Page.GetByLabel("Password")).ToHaveValueAsync("");
        Assert.Empty(app.Requests);

        // The page the error came with is a working login form: the right password now reaches the app.
        await Page.GetByLabel("Password").FillAsync(SignedInUsers.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        var profile = await ProfileAsync(await CodeAtTheAppAsync());
        Assert.Equal("alice", profile.Username);
    }

    [Fact]
    public async Task TwoFactorSignIn_CodeFromTheAuthenticator_RedirectsTheCodeToTheApp()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        var (secret, _) = await EnableTwoFactorAsync("alice");

        await SignInWithPasswordAsync("alice");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor sign-in" })).ToBeVisibleAsync();
        // Nothing reached the app with the password alone.
        Assert.Empty(app.Requests);

        await Page.GetByLabel("Code from your authenticator app").FillAsync(Totp.Now(secret));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();

        var profile = await ProfileAsync(await CodeAtTheAppAsync());
        Assert.Equal("alice", profile.Username);
        tab.AssertNoProblems("on the two-factor page");
    }

    [Fact]
    public async Task TwoFactorSignIn_RecoveryCodeBehindTheDisclosure_RedirectsTheCodeToTheApp()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        var (_, recoveryCodes) = await EnableTwoFactorAsync("alice");

        await SignInWithPasswordAsync("alice");
        var recoveryCode = Page.GetByLabel("Recovery code");
        // Folded away until asked for (no script: a details element), so the usual case stays one field.
        await Expect(recoveryCode).ToBeHiddenAsync();
        await Page.GetByText("Use a recovery code instead").ClickAsync();
        await recoveryCode.FillAsync(recoveryCodes[0]);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();

        var profile = await ProfileAsync(await CodeAtTheAppAsync());
        Assert.Equal("alice", profile.Username);
        tab.AssertNoProblems("on the two-factor page");
    }

    [Fact]
    public async Task ProblemWatch_AResourceTheLoginPagesPolicyForbids_IsReported()
    {
        // The other tests assert that the browser reported nothing; this one shows that it would.
        await Page.GotoAsync(new Uri(server.Address, "/account/login").AbsoluteUri);
        tab.AssertNoProblems("on the login page");

        // An image from another origin (the app's listener, so nothing leaves the machine): img-src allows 'self' only.
        await Page.EvaluateAsync("url => { const img = document.createElement('img'); img.src = url; document.body.append(img); }",
            $"http://127.0.0.1:{app.Port}/tracking-pixel.png");

        await WaitUntilAsync(() => tab.Problems.Any(p => p.Contains("img-src", StringComparison.Ordinal)),
            () => "No CSP violation was reported. Problems: " + string.Join('\n', tab.Problems));
        Assert.Empty(app.Requests);
    }

    private async Task SignInWithPasswordAsync(string username)
    {
        await Page.GotoAsync(AuthorizeUrl);
        await Page.GetByLabel("Username").FillAsync(username);
        await Page.GetByLabel("Password").FillAsync(SignedInUsers.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }

    /// <summary>Turns on two-factor sign-in through the API, as the desktop app's settings do.</summary>
    private async Task<(string Secret, IReadOnlyList<string> RecoveryCodes)> EnableTwoFactorAsync(string username)
    {
        using var api = await SignedInUsers.SignInAsync(server, username);
        using var setupResponse = await api.PostAsync("/api/v1/me/two-factor/setup", null);
        var setup = (await setupResponse.Content.ReadFromJsonAsync<TwoFactorSetupResponse>())!;
        using var enabled = await api.PostAsJsonAsync("/api/v1/me/two-factor/enable", new TwoFactorCodeRequest(Totp.Now(setup.SharedKey)));
        Assert.True(enabled.StatusCode == HttpStatusCode.OK, await enabled.Content.ReadAsStringAsync());
        return (setup.SharedKey, (await enabled.Content.ReadFromJsonAsync<TwoFactorRecoveryCodesResponse>())!.RecoveryCodes);
    }

    private async Task<string> CodeAtTheAppAsync()
    {
        var response = await app.WaitForCallbackAsync(tab);
        Assert.Null(response["error"]);
        Assert.Equal(state, response["state"]);
        var code = response["code"];
        Assert.False(string.IsNullOrEmpty(code), "No code in the authorization response.");
        return code;
    }

    /// <summary>What the app does with the code: redeems it with the PKCE verifier, then calls the API.</summary>
    private async Task<ProfileResponse> ProfileAsync(string code)
    {
        using var oauth = new OAuthBrowser(server.Address);
        var (status, body) = await oauth.RedeemAsync(code, app.RedirectUri, verifier);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        using var api = OAuthBrowser.ApiClient(server.Address, TokenSet.From(body).AccessToken);
        return (await api.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!;
    }

    private Regex LoginPageUrl() => new("^" + Regex.Escape(new Uri(server.Address, "/account/login?ReturnUrl=").AbsoluteUri));

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> failure)
    {
        for (var waited = 0; !condition(); waited += 50)
        {
            Assert.True(waited < 5_000, failure());
            await Task.Delay(50);
        }
    }
}
