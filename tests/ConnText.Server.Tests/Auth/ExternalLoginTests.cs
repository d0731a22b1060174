using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using ConnText.Contracts.Accounts;
using ConnText.Server.Accounts;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Client.SystemNetHttp;
using Polly;

namespace ConnText.Server.Tests.Auth;

/// <summary>
/// "Sign in with ..." another OpenID Connect provider, with real OIDC on both sides: server A is the provider
/// (a ConnText server with a confidential client registered for B), server B the relying party whose login
/// page shows the button. The desktop app signs in to B; the person proves who they are on A.
/// </summary>
public abstract class ExternalLoginTests(Provider provider) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private const string ProviderName = "conntext-a";
    private const string ClientId = "conntext-b";
    private const string ClientSecret = "b-secret-0123456789abcdef";

    private readonly List<IDisposable> browsers = [];
    private ServerInstance a = null!;
    private ServerInstance? b;
    private int bPort;
    private Guid aliceOnA;

    public async Task InitializeAsync()
    {
        // A must know B's redirect URI before B starts, and B must know A's address: B gets a fixed port.
        // B is reached as "localhost" and A as "127.0.0.1", so that the two servers keep separate cookies in
        // the test browser, as two servers on different hosts do in a real one (cookies ignore the port).
        bPort = ServerProcess.FreePort();
        a = await ServerInstance.StartAsync(Provider.Sqlite, new Dictionary<string, string?>
        {
            ["ConnText:Name"] = "Server A",
            [$"ConnText:Auth:Clients:{ClientId}:ClientSecret"] = ClientSecret,
            [$"ConnText:Auth:Clients:{ClientId}:DisplayName"] = "ConnText B",
            [$"ConnText:Auth:Clients:{ClientId}:RedirectUris:0"] = $"http://localhost:{bPort}/account/external/callback/{ProviderName}",
        });
        using var created = await a.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", Password, "Alice A.", "alice@a.example"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        aliceOnA = (await created.Content.ReadFromJsonAsync<AccountResponse>())!.Id;
    }

    public async Task DisposeAsync()
    {
        browsers.ForEach(browser => browser.Dispose());
        if (b is not null)
        {
            await b.DisposeAsync();
        }

        await a.DisposeAsync();
    }

    [Fact]
    public async Task SignInWithProvider_CreatesALinkedAccount_AndTheAppGetsTokensForIt()
    {
        await StartRelyingPartyAsync();

        var tokens = await SignInThroughProviderAsync(NewBrowser(), "alice");

        using var api = OAuthBrowser.ApiClient(b!.Address, tokens.AccessToken);
        var userInfo = await api.GetFromJsonAsync<JsonElement>("/connect/userinfo");
        Assert.Equal("alice", userInfo.GetProperty("preferred_username").GetString());
        Assert.Equal("Alice A.", userInfo.GetProperty("name").GetString());

        var user = await SingleUserOnBAsync();
        Assert.Equal(userInfo.GetProperty("sub").GetString(), user.Id.ToString());
        Assert.NotEqual(aliceOnA, user.Id);
        Assert.Null(user.PasswordHash);
        Assert.Equal("alice@a.example", user.Email);
        Assert.False(user.EmailConfirmed);
        var login = Assert.Single(await LoginsOnBAsync(user.Id));
        Assert.Equal(ProviderName, login.LoginProvider);
        Assert.Equal(aliceOnA.ToString(), login.ProviderKey);
        Assert.Equal("ConnText A", login.ProviderDisplayName);
    }

    [Fact]
    public async Task SecondSignIn_WithTheSameProviderAccount_MapsToTheSameUser()
    {
        await StartRelyingPartyAsync();

        var first = await SignInThroughProviderAsync(NewBrowser(), "alice");
        var second = await SignInThroughProviderAsync(NewBrowser(), "alice");

        Assert.Equal(await SubjectAsync(first), await SubjectAsync(second));
        await using var scope = b!.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        Assert.Equal(1, await db.Users.CountAsync());
        Assert.Equal(1, await db.UserLogins.CountAsync());
    }

    [Fact]
    public async Task LoginPage_ShowsAButtonPerProvider_OnlyWhereProvidersAreConfigured()
    {
        await StartRelyingPartyAsync(new Dictionary<string, string?>
        {
            // Never contacted here: a provider's discovery document is read when its button is used.
            ["ConnText:Auth:ExternalProviders:corp:DisplayName"] = "Example Corp",
            ["ConnText:Auth:ExternalProviders:corp:Authority"] = "https://login.example.org/",
            ["ConnText:Auth:ExternalProviders:corp:ClientId"] = "conntext",
        });

        using var browser = NewBrowser();
        using var bPage = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50100), OAuthBrowser.NewVerifier()));
        var bHtml = await bPage.Content.ReadAsStringAsync();
        Assert.Contains("Sign in with ConnText A", bHtml, StringComparison.Ordinal);
        Assert.Contains($"action=\"/account/external/{ProviderName}\"", bHtml, StringComparison.Ordinal);
        Assert.Contains("Sign in with Example Corp", bHtml, StringComparison.Ordinal);
        Assert.Contains("action=\"/account/external/corp\"", bHtml, StringComparison.Ordinal);

        using var aPage = await a.Client.GetAsync("/account/login");
        Assert.DoesNotContain("Sign in with", await aPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalUsernameTaken_NewAccountGetsASuffix_AndTheLocalAccountIsNotTakenOver()
    {
        await StartRelyingPartyAsync();
        AccountResponse localAlice;
        using (var local = await b!.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", "another long passphrase", "Local Alice")))
        {
            Assert.Equal(HttpStatusCode.Created, local.StatusCode);
            localAlice = (await local.Content.ReadFromJsonAsync<AccountResponse>())!;
        }

        var tokens = await SignInThroughProviderAsync(NewBrowser(), "alice");

        using var api = OAuthBrowser.ApiClient(b.Address, tokens.AccessToken);
        var userInfo = await api.GetFromJsonAsync<JsonElement>("/connect/userinfo");
        Assert.Equal("alice2", userInfo.GetProperty("preferred_username").GetString());
        Assert.Equal("Alice A.", userInfo.GetProperty("name").GetString());
        Assert.NotEqual(localAlice.Id.ToString(), userInfo.GetProperty("sub").GetString());
        Assert.Empty(await LoginsOnBAsync(localAlice.Id));
    }

    [Fact]
    public async Task RegistrationClosed_WithoutALink_IsRefused()
    {
        await StartRelyingPartyAsync(new Dictionary<string, string?> { ["ConnText:Accounts:RegistrationMode"] = "Closed" });

        using var browser = NewBrowser();
        using var answer = await CallbackAnswerAsync(browser, "alice");

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("does not accept new accounts", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(SetsLoginCookie(answer));
        await AssertNotSignedInOnBAsync(browser);
        await using var scope = b!.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ConnTextDbContext>().Users.CountAsync());
    }

    [Fact]
    public async Task RegistrationClosed_AnAlreadyLinkedAccount_StillSignsIn_ButNotOnceDisabled()
    {
        await StartRelyingPartyAsync(new Dictionary<string, string?> { ["ConnText:Accounts:RegistrationMode"] = "Closed" });
        Guid linkedId;
        await using (var scope = b!.Services.CreateAsyncScope())
        {
            // An operator-created account, linked to alice's account on A.
            var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
            var user = new User { Id = Guid.CreateVersion7(), UserName = "alice-b", DisplayName = "Alice on B", CreatedAt = DateTimeOffset.UnixEpoch };
            Assert.True((await users.CreateAsync(user)).Succeeded);
            Assert.True((await users.AddLoginAsync(user, new UserLoginInfo(ProviderName, aliceOnA.ToString(), "ConnText A"))).Succeeded);
            linkedId = user.Id;
        }

        var tokens = await SignInThroughProviderAsync(NewBrowser(), "alice");
        Assert.Equal(linkedId.ToString(), await SubjectAsync(tokens));

        await using (var scope = b.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            await db.Users.Where(u => u.Id == linkedId).ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, true));
        }

        using var browser = NewBrowser();
        using var answer = await CallbackAnswerAsync(browser, "alice");
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("disabled", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(SetsLoginCookie(answer));
        await AssertNotSignedInOnBAsync(browser);
    }

    [Theory]
    [InlineData("?code=forged-code")]
    [InlineData("?code=forged-code&state=forged-state")]
    [InlineData("?error=access_denied")]
    [InlineData("")]
    public async Task ForgedCallback_SignsNobodyIn(string query)
    {
        await StartRelyingPartyAsync();
        using var browser = NewBrowser();

        using var answer = await browser.Browser.GetAsync(new Uri(b!.Address, $"/account/external/callback/{ProviderName}{query}"));

        // OpenIddict refuses it (no state, or not one it issued); the callback shows the login page with the reason.
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.Contains("Signing in with ConnText A did not complete", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(SetsLoginCookie(answer));
        await AssertNotSignedInOnBAsync(browser);
    }

    [Fact]
    public async Task GenuineCallback_DeliveredToAnotherBrowser_SignsNobodyIn()
    {
        await StartRelyingPartyAsync();

        // The victim's genuine answer from A (state and code are valid), lured into the attacker's browser:
        // without the correlation cookie of the browser that started the login, it is refused.
        using var victim = NewBrowser();
        using var toCallback = await ProviderAnswerAsync(victim, "alice");
        using var attacker = NewBrowser();
        using var answer = await attacker.Browser.GetAsync(toCallback.Headers.Location);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("Signing in with ConnText A did not complete", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(SetsLoginCookie(answer));
        await AssertNotSignedInOnBAsync(attacker);
        await using var scope = b!.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ConnTextDbContext>().UserLogins.CountAsync());
    }

    [Fact]
    public async Task SignInButton_WithoutAntiforgeryToken_IsRefused()
    {
        await StartRelyingPartyAsync();
        using var browser = NewBrowser();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = "/" });

        using var response = await browser.Browser.PostAsync(new Uri(b!.Address, $"/account/external/{ProviderName}"), form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task UnreachableProvider_ShowsTheLoginPageWithAnError()
    {
        await StartRelyingPartyAsync(new Dictionary<string, string?>
        {
            // A has no discovery document there: a provider that is misconfigured or answers errors (a closed port
            // fails the same way, after OpenIddict's retries).
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:Authority"] = new Uri(a.Address, "/nothing-here/").AbsoluteUri,
        },
        // OpenIddict retries failed discovery requests for about 15 s before giving up; the outcome is the same without.
        services => services.PostConfigure<OpenIddictClientSystemNetHttpOptions>(o => o.HttpResiliencePipeline = ResiliencePipeline<HttpResponseMessage>.Empty));
        using var browser = NewBrowser();
        using var page = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50102), OAuthBrowser.NewVerifier()));

        using var answer = await browser.SubmitFormAsync(page, $"/account/external/{ProviderName}");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Contains("Signing in with ConnText A is not possible right now", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(answer.Headers.Location);
    }

    [Fact]
    public async Task UnknownProvider_IsNotFound()
    {
        await StartRelyingPartyAsync();
        using var browser = NewBrowser();

        using var callback = await browser.Browser.GetAsync(new Uri(b!.Address, "/account/external/callback/nobody?code=x&state=y"));

        Assert.Equal(HttpStatusCode.NotFound, callback.StatusCode);
    }

    [Fact]
    public async Task ClientRemovedFromTheSettings_IsDeletedAtTheNextStart()
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var sqliteFile = Path.Combine(Path.GetTempPath(), $"conntext-clients-{Guid.NewGuid():N}.db");
        var settings = new Dictionary<string, string?>
        {
            ["ConnText:Auth:Clients:kept:ClientSecret"] = ClientSecret,
            ["ConnText:Auth:Clients:kept:RedirectUris:0"] = "https://kept.example/callback",
            ["ConnText:Auth:Clients:gone:ClientSecret"] = ClientSecret,
            ["ConnText:Auth:Clients:gone:RedirectUris:0"] = "https://gone.example/callback",
        };
        if (provider == Provider.Sqlite)
        {
            // The same SQLite file across both starts (by default it lives in each instance's own data directory).
            settings["ConnectionStrings:Default"] = $"Data Source={sqliteFile}";
        }

        try
        {
            await using (var first = await ServerInstance.StartAsync(provider, settings, database: database))
            {
                Assert.Equal(["conntext-desktop", "gone", "kept"], await ClientIdsAsync(first));
            }

            settings.Remove("ConnText:Auth:Clients:gone:ClientSecret");
            settings.Remove("ConnText:Auth:Clients:gone:RedirectUris:0");
            await using (var second = await ServerInstance.StartAsync(provider, settings, database: database))
            {
                Assert.Equal(["conntext-desktop", "kept"], await ClientIdsAsync(second));
            }
        }
        finally
        {
            File.Delete(sqliteFile);
        }

        static async Task<string[]> ClientIdsAsync(ServerInstance server)
        {
            await using var scope = server.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            return (await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication<Guid>>()
                .Select(application => application.ClientId!).ToListAsync()).Order(StringComparer.Ordinal).ToArray();
        }
    }

    private async Task StartRelyingPartyAsync(Dictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://localhost:{bPort}",
            ["ConnText:Name"] = "Server B",
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:DisplayName"] = "ConnText A",
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:Authority"] = a.Address.AbsoluteUri,
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:ClientId"] = ClientId,
            [$"ConnText:Auth:ExternalProviders:{ProviderName}:ClientSecret"] = ClientSecret,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        b = await ServerInstance.StartAsync(provider, settings, services);
        Assert.Equal("localhost", b.Address.Host);
    }

    private OAuthBrowser NewBrowser()
    {
        var browser = new OAuthBrowser(b!.Address) { OtherServers = { a.Address } };
        browsers.Add(browser);
        return browser;
    }

    /// <summary>
    /// The browser part up to A's answer: B's authorize request, B's login page, its "Sign in with" button,
    /// A's login page, signing in on A; returns A's redirect back to B's callback (not yet followed).
    /// </summary>
    private async Task<HttpResponseMessage> ProviderAnswerAsync(OAuthBrowser browser, string username, string redirect = "", string verifier = "")
    {
        redirect = redirect.Length > 0 ? redirect : OAuthBrowser.LoopbackRedirect(50200);
        verifier = verifier.Length > 0 ? verifier : OAuthBrowser.NewVerifier();
        using var bLogin = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(redirect, verifier));
        Assert.Equal(HttpStatusCode.OK, bLogin.StatusCode);

        using var toA = await browser.SubmitFormAsync(bLogin, $"/account/external/{ProviderName}");
        Assert.Equal(HttpStatusCode.Redirect, toA.StatusCode);
        var authorize = toA.Headers.Location!;
        Assert.Equal(a.Address.Authority, authorize.Authority);
        var request = HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal(ClientId, request["client_id"]);
        Assert.Equal("S256", request["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(request["state"]));

        using var aLogin = await browser.FollowAsync(authorize.AbsoluteUri);
        Assert.Equal(HttpStatusCode.OK, aLogin.StatusCode);
        Assert.Contains("Server A", await aLogin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var signedIn = await browser.SubmitLoginAsync(aLogin, username, Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        var toCallback = await browser.FollowAsync(
            new Uri(a.Address, signedIn.Headers.Location!).AbsoluteUri, stopAt: uri => uri.Authority == b!.Address.Authority);
        Assert.Equal(HttpStatusCode.Redirect, toCallback.StatusCode);
        Assert.StartsWith(new Uri(b!.Address, $"/account/external/callback/{ProviderName}?").AbsoluteUri, toCallback.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        return toCallback;
    }

    /// <summary>The whole login through A, stopping at B's answer to A's redirect (the callback's response).</summary>
    private async Task<HttpResponseMessage> CallbackAnswerAsync(OAuthBrowser browser, string username)
    {
        using var toCallback = await ProviderAnswerAsync(browser, username);
        return await browser.Browser.GetAsync(toCallback.Headers.Location);
    }

    /// <summary>The whole login through A, back to the desktop app, and the code redeemed at B's token endpoint.</summary>
    private async Task<TokenSet> SignInThroughProviderAsync(OAuthBrowser browser, string username)
    {
        var redirect = OAuthBrowser.LoopbackRedirect(50201);
        var verifier = OAuthBrowser.NewVerifier();
        using var toCallback = await ProviderAnswerAsync(browser, username, redirect, verifier);

        using var toApp = await browser.FollowAsync(toCallback.Headers.Location!.AbsoluteUri);
        var callback = toApp.Headers.Location ?? throw new InvalidOperationException(
            $"No redirect to the app: {(int)toApp.StatusCode} {await toApp.Content.ReadAsStringAsync()}");
        Assert.StartsWith(redirect, callback.AbsoluteUri, StringComparison.Ordinal);
        var code = HttpUtility.ParseQueryString(callback.Query)["code"]!;

        var (status, body) = await browser.RedeemAsync(code, redirect, verifier);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return TokenSet.From(body);
    }

    private async Task<string?> SubjectAsync(TokenSet tokens)
    {
        using var api = OAuthBrowser.ApiClient(b!.Address, tokens.AccessToken);
        return (await api.GetFromJsonAsync<JsonElement>("/connect/userinfo")).GetProperty("sub").GetString();
    }

    private async Task<User> SingleUserOnBAsync()
    {
        await using var scope = b!.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ConnTextDbContext>().Users.AsNoTracking().SingleAsync();
    }

    private async Task<List<IdentityUserLogin<Guid>>> LoginsOnBAsync(Guid userId)
    {
        await using var scope = b!.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ConnTextDbContext>().UserLogins.Where(l => l.UserId == userId).ToListAsync();
    }

    private static bool SetsLoginCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies)
        && cookies.Any(c => c.StartsWith("conntext.login=", StringComparison.Ordinal) && !c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));

    /// <summary>B's authorize endpoint still sends this browser to the login page.</summary>
    private static async Task AssertNotSignedInOnBAsync(OAuthBrowser browser)
    {
        using var response = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50202), OAuthBrowser.NewVerifier()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);
    }
}

public sealed class SqliteExternalLoginTests() : ExternalLoginTests(Provider.Sqlite);

public sealed class PostgresExternalLoginTests() : ExternalLoginTests(Provider.Postgres);

/// <summary>External-provider and client settings are checked at start-up; each failure names its setting.</summary>
public sealed class ExternalLoginSettingsTests : IDisposable
{
    private readonly DirectoryInfo dataDirectory = Directory.CreateTempSubdirectory("conntext-external-settings-");

    public void Dispose() => dataDirectory.Delete(recursive: true);

    [Theory]
    [InlineData("ConnText:Auth:ExternalProviders:corp:Authority", "not a url", "ConnText:Auth:ExternalProviders:corp:Authority")]
    [InlineData("ConnText:Auth:ExternalProviders:corp:Authority", "ftp://idp.example/", "ConnText:Auth:ExternalProviders:corp:Authority")]
    [InlineData("ConnText:Auth:ExternalProviders:corp:Authority", "https://idp.example/?tenant=1", "ConnText:Auth:ExternalProviders:corp:Authority")]
    [InlineData("ConnText:Auth:ExternalProviders:corp:ClientId", "", "ConnText:Auth:ExternalProviders:corp:ClientId")]
    [InlineData("ConnText:Auth:ExternalProviders:corp:DisplayName", "Bad\u0007Name", "ConnText:Auth:ExternalProviders:corp:DisplayName")]
    [InlineData("ConnText:Auth:Clients:web:ClientSecret", "short", "ConnText:Auth:Clients:web:ClientSecret")]
    [InlineData("ConnText:Auth:Clients:web:RedirectUris:0", "/relative/callback", "ConnText:Auth:Clients:web:RedirectUris:0")]
    [InlineData("ConnText:Auth:Clients:web:RedirectUris:0", "https://rp.example/cb#fragment", "ConnText:Auth:Clients:web:RedirectUris:0")]
    [InlineData("ConnText:Auth:Clients:conntext-desktop:ClientSecret", "0123456789abcdef0123", "ConnText:Auth:Clients:conntext-desktop")]
    public void MalformedSetting_StopsStartUp_NamingTheSetting(string key, string value, string setting)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnText:DataDirectory"] = dataDirectory.FullName,
            ["ConnText:Auth:ExternalProviders:corp:Authority"] = "https://idp.example/",
            ["ConnText:Auth:ExternalProviders:corp:ClientId"] = "conntext",
            ["ConnText:Auth:Clients:web:ClientSecret"] = "0123456789abcdef0123",
            ["ConnText:Auth:Clients:web:RedirectUris:0"] = "https://rp.example/account/external/callback/us",
        };
        settings[key] = value;

        var error = Assert.Throws<StartupException>(() => ServerApp.Build([], builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Equal(setting, error.Setting);
    }

    [Fact]
    public void ProviderWithoutClientId_StopsStartUp_NamingTheSetting()
    {
        var error = Assert.Throws<StartupException>(() => ServerApp.Build([], builder => builder.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?>
            {
                ["ConnText:DataDirectory"] = dataDirectory.FullName,
                ["ConnText:Auth:ExternalProviders:corp:Authority"] = "https://idp.example/",
            })));

        Assert.Equal("ConnText:Auth:ExternalProviders:corp:ClientId", error.Setting);
    }

    [Fact]
    public async Task WellFormedSettings_Start()
    {
        SharedKeys.CopyInto(dataDirectory.FullName);
        var app = ServerApp.Build([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnText:DataDirectory"] = dataDirectory.FullName,
            ["ConnText:Auth:ExternalProviders:corp:Authority"] = "https://idp.example/",
            ["ConnText:Auth:ExternalProviders:corp:ClientId"] = "conntext",
            ["ConnText:Auth:Clients:web:ClientSecret"] = "0123456789abcdef0123",
            ["ConnText:Auth:Clients:web:RedirectUris:0"] = "https://rp.example/account/external/callback/us",
        }));
        await app.DisposeAsync();
    }
}

/// <summary>The username a new account gets from what the provider says, before the uniqueness suffix.</summary>
public sealed class ExternalUsernameTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("Alice.Smith", "Alice.Smith")]
    [InlineData("José Müller", "Jose.Muller")]
    [InlineData("  --bob_ ", "bob")]
    [InlineData("carol@example.org", "carolexample.org")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz012345")]
    [InlineData("李雷", null)]
    [InlineData("x", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Sanitize_KeepsWhatTheUsernameRulesAllow(string? value, string? expected)
    {
        var name = ExternalAccounts.Sanitize(value);

        Assert.Equal(expected, name);
        if (name is not null)
        {
            Assert.Empty(AccountRules.CheckUsername(name));
        }
    }
}
