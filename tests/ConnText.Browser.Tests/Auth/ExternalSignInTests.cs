using System.Net;
using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Browser.Tests.Auth;

/// <summary>
/// "Sign in with ..." in a real browser: server A is the OpenID Connect provider, server B (where the desktop app
/// signs in) shows the button. Two form posts, each followed by redirects across origins (B → A, then A → B → the
/// app), with B's correlation cookie crossing sites: B is reached as "localhost" and A as "127.0.0.1".
/// </summary>
[Collection(ChromiumTestGroup.Name)]
public sealed class ExternalSignInTests(Chromium chromium) : IAsyncLifetime
{
    private const string ProviderName = "conntext-a";
    private const string ClientId = "conntext-b";
    private const string ClientSecret = "b-secret-0123456789abcdef";

    private readonly string verifier = OAuthBrowser.NewVerifier();
    private ServerInstance a = null!;
    private ServerInstance b = null!;
    private BrowserTab tab = null!;
    private DesktopAppListener app = null!;

    public async Task InitializeAsync()
    {
        // A must know B's redirect URI before B starts: B gets a port chosen now.
        int bPort;
        do
        {
            bPort = ServerProcess.FreePort();
        }
        while (Chromium.RefusesPort(bPort));

        a = await Servers.StartAsync(new Dictionary<string, string?>
        {
            ["ConnText:Name"] = "Server A",
            [$"ConnText:Auth:Clients:{ClientId}:ClientSecret"] = ClientSecret,
            [$"ConnText:Auth:Clients:{ClientId}:DisplayName"] = "ConnText B",
            [$"ConnText:Auth:Clients:{ClientId}:RedirectUris:0"] = $"http://localhost:{bPort}/account/external/callback/{ProviderName}",
        });
        b = await ServerInstance.StartAsync(Provider.Sqlite, new Dictionary<string, string?>
        {
            ["Urls"] = $"http://localhost:{bPort}",
            ["ConnText:Name"] = "Server B",
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:DisplayName"] = "ConnText A",
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:Authority"] = a.Address.AbsoluteUri,
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:ClientId"] = ClientId,
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:ClientSecret"] = ClientSecret,
        });
        tab = await BrowserTab.OpenAsync(chromium);
        app = DesktopAppListener.Start();
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await tab.DisposeAsync();
        await b.DisposeAsync();
        await a.DisposeAsync();
    }

    [Fact]
    public async Task SignInWithAnotherServer_InTheSystemBrowser_RedirectsTheCodeToTheAppsLoopbackListener()
    {
        await SignedInUsers.RegisterAsync(a, "alice");
        var page = tab.Page;

        await page.GotoAsync(new Uri(b.Address, OAuthBrowser.AuthorizeUrl(app.RedirectUri, verifier, "state-b")).AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with ConnText A" }).ClickAsync();

        // A's own login page, with A's name on it.
        await Expect(page.GetByText("Server A")).ToBeVisibleAsync();
        Assert.Equal(a.Address.Authority, new Uri(page.Url).Authority);
        await page.GetByLabel("Username").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync(SignedInUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        var response = await app.WaitForCallbackAsync(tab);
        Assert.Null(response["error"]);
        Assert.Equal("state-b", response["state"]);
        tab.AssertNoProblems("between B's login page, A's and the app");

        using var oauth = new OAuthBrowser(b.Address);
        var (status, body) = await oauth.RedeemAsync(response["code"]!, app.RedirectUri, verifier);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        using var api = OAuthBrowser.ApiClient(b.Address, TokenSet.From(body).AccessToken);
        var profile = (await api.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!;
        Assert.Equal("alice", profile.Username);
    }
}
