using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;

namespace ConnText.Server.Tests.Infrastructure;

/// <summary>
/// Drives the authorization-code + PKCE flow as the system browser and the desktop app would:
/// cookies, the login form with its antiforgery token, redirects followed one by one, and the
/// final redirect to the app's loopback listener read from the Location header.
/// </summary>
public sealed partial class OAuthBrowser : IDisposable
{
    public const string ClientId = "conntext-desktop";

    private readonly HttpClient browser;
    private readonly HttpClient app;

    public OAuthBrowser(Uri server)
    {
        browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = server,
        };
        app = new HttpClient { BaseAddress = server };
        Server = server;
    }

    public Uri Server { get; }

    public HttpClient Browser => browser;

    public static string NewVerifier() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public static string AuthorizeUrl(
        string redirectUri, string? verifier, string state = "state-1", string method = "S256", string scope = "openid profile offline_access api",
        string? deviceName = "Test laptop")
    {
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = ClientId;
        query["response_type"] = "code";
        query["redirect_uri"] = redirectUri;
        query["scope"] = scope;
        query["state"] = state;
        if (verifier is not null)
        {
            query["code_challenge"] = method == "S256" ? Challenge(verifier) : verifier;
            query["code_challenge_method"] = method;
        }

        if (deviceName is not null)
        {
            query["device_name"] = deviceName;
            query["device_platform"] = "linux";
        }

        return "/connect/authorize?" + query;
    }

    public static string LoopbackRedirect(int port) => $"http://127.0.0.1:{port}/oauth/callback";

    /// <summary>
    /// Servers besides <see cref="Server"/> that this browser follows redirects into, e.g. an external
    /// OpenID Connect provider. Cookies are kept per host, as a browser keeps them.
    /// </summary>
    public ICollection<Uri> OtherServers { get; } = [];

    /// <summary>
    /// Follows redirects inside the known servers until one leaves them (to the app), a page is shown,
    /// or <paramref name="stopAt"/> says to stop before a redirect target.
    /// </summary>
    public async Task<HttpResponseMessage> FollowAsync(string url, Func<Uri, bool>? stopAt = null)
    {
        var next = new Uri(Server, url);
        for (var hop = 0; hop < 10; hop++)
        {
            var response = await browser.GetAsync(next);
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther))
            {
                return response;
            }

            var location = response.Headers.Location!;
            var absolute = location.IsAbsoluteUri ? location : new Uri(next, location);
            if (!IsKnownServer(absolute) || stopAt?.Invoke(absolute) == true)
            {
                return response;
            }

            response.Dispose();
            next = absolute;
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    /// <summary>Submits the form of <paramref name="page"/> whose action is <paramref name="action"/>, with its hidden fields plus <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitFormAsync(HttpResponseMessage page, string action, IDictionary<string, string>? fields = null)
    {
        var html = await page.Content.ReadAsStringAsync();
        var form = Regex.Match(html, $"<form[^>]*action=\"{Regex.Escape(action)}\"[^>]*>(.*?)</form>", RegexOptions.Singleline);
        Assert.True(form.Success, $"No form posting to {action} on the page:\n{html}");
        var values = Regex.Matches(form.Groups[1].Value, "<input[^>]*type=\"hidden\"[^>]*>")
            .Select(input => (Name: Attribute(input.Value, "name"), Value: Attribute(input.Value, "value")))
            .Where(input => input.Name.Length > 0)
            .ToDictionary(input => input.Name, input => input.Value);
        foreach (var (name, value) in fields ?? new Dictionary<string, string>())
        {
            values[name] = value;
        }

        using var content = new FormUrlEncodedContent(values);
        return await browser.PostAsync(new Uri(page.RequestMessage!.RequestUri!, action), content);
    }

    /// <summary>
    /// A port for the app's loopback redirect that is not a server's: a redirect to a known server's authority is
    /// followed, so an app port equal to the server's port (test servers also take free ports in this range) sent the
    /// browser to the server's /oauth/callback, a 404 (seen once in CI).
    /// </summary>
    private int AppPort()
    {
        while (true)
        {
            var port = System.Security.Cryptography.RandomNumberGenerator.GetInt32(20000, 60000);
            if (!IsKnownServer(new Uri(LoopbackRedirect(port))))
            {
                return port;
            }
        }
    }

    private bool IsKnownServer(Uri uri) =>
        uri.Authority == Server.Authority || OtherServers.Any(other => other.Authority == uri.Authority);

    private static string Attribute(string tag, string name)
    {
        var match = Regex.Match(tag, $"\\b{Regex.Escape(name)}=\"([^\"]*)\"");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : "";
    }

    /// <summary>Fills in and submits the login form shown by <paramref name="loginPage"/>.</summary>
    public async Task<HttpResponseMessage> SubmitLoginAsync(HttpResponseMessage loginPage, string username, string password)
    {
        var html = await loginPage.Content.ReadAsStringAsync();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(html, "__RequestVerificationToken"),
            ["ReturnUrl"] = Hidden(html, "ReturnUrl"),
            ["Username"] = username,
            ["Password"] = password,
        });
        // The login page's own server: with an external provider in the flow, that can be the provider.
        return await browser.PostAsync(new Uri(loginPage.RequestMessage!.RequestUri!, "/account/login"), form);
    }

    /// <summary>The whole browser part: authorize, log in, return the code from the redirect to the app.</summary>
    public async Task<string> SignInForCodeAsync(string username, string password, string redirectUri, string verifier, string state = "state-1")
    {
        var loginPage = await FollowAsync(AuthorizeUrl(redirectUri, verifier, state));
        HttpResponseMessage toApp;
        if (loginPage.Headers.Location is not null)
        {
            // Already signed in to the server in this browser: straight back to the app, as users expect.
            toApp = loginPage;
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
            using var submitted = await SubmitLoginAsync(loginPage, username, password);
            loginPage.Dispose();
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
            toApp = await FollowAsync(submitted.Headers.Location!.OriginalString);
        }

        using var _ = toApp;
        return await CodeFromAppRedirectAsync(toApp, redirectUri, state);
    }

    /// <summary>The authorization code in the server's redirect to the app's loopback listener.</summary>
    public static async Task<string> CodeFromAppRedirectAsync(HttpResponseMessage toApp, string redirectUri, string state = "state-1")
    {
        var callback = toApp.Headers.Location ?? throw new InvalidOperationException($"No redirect to the app: {(int)toApp.StatusCode} {await toApp.Content.ReadAsStringAsync()}");
        Assert.StartsWith(redirectUri, callback.AbsoluteUri, StringComparison.Ordinal);
        var query = HttpUtility.ParseQueryString(callback.Query);
        Assert.Equal(state, query["state"]);
        return query["code"] ?? throw new InvalidOperationException($"No code in {callback}");
    }

    /// <summary>Fills in and submits the second-step form (authenticator code, or a recovery code) shown by <paramref name="twoFactorPage"/>.</summary>
    public async Task<HttpResponseMessage> SubmitTwoFactorAsync(HttpResponseMessage twoFactorPage, string? code, string? recoveryCode = null)
    {
        var html = await twoFactorPage.Content.ReadAsStringAsync();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(html, "__RequestVerificationToken"),
            ["ReturnUrl"] = Hidden(html, "ReturnUrl"),
            ["Code"] = code ?? "",
            ["RecoveryCode"] = recoveryCode ?? "",
        });
        return await browser.PostAsync("/account/login/two-factor", form);
    }

    /// <summary>
    /// Authorize and the password, for an account with two-factor sign-in: asserts that the password alone leads to the
    /// second step (and to no login), and returns that page.
    /// </summary>
    public async Task<HttpResponseMessage> SignInUntilSecondStepAsync(string username, string password, string redirectUri, string verifier, string state = "state-1")
    {
        using var loginPage = await FollowAsync(AuthorizeUrl(redirectUri, verifier, state));
        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        using var submitted = await SubmitLoginAsync(loginPage, username, password);
        Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        Assert.StartsWith("/account/login/two-factor?", submitted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.DoesNotContain(submitted.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [],
            cookie => cookie.StartsWith("conntext.login=", StringComparison.Ordinal));
        var secondStep = await FollowAsync(submitted.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, secondStep.StatusCode);
        return secondStep;
    }

    /// <summary>
    /// The whole browser part with a second factor: authorize, password, then <paramref name="code"/> (or
    /// <paramref name="recoveryCode"/>). Returns what ends it: the redirect to the app, or the page shown instead.
    /// </summary>
    public async Task<HttpResponseMessage> SignInWithSecondFactorAsync(
        string username, string password, string redirectUri, string verifier, string? code, string? recoveryCode = null, string state = "state-1")
    {
        using var secondStep = await SignInUntilSecondStepAsync(username, password, redirectUri, verifier, state);
        var answered = await SubmitTwoFactorAsync(secondStep, code, recoveryCode);
        if (answered.StatusCode != HttpStatusCode.Redirect)
        {
            return answered;
        }

        using (answered)
        {
            return await FollowAsync(answered.Headers.Location!.OriginalString);
        }
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> TokenAsync(IDictionary<string, string> parameters)
    {
        using var content = new FormUrlEncodedContent(parameters);
        using var response = await app.PostAsync("/connect/token", content);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> RedeemAsync(string code, string redirectUri, string verifier) =>
        TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ClientId,
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = verifier,
        });

    public Task<(HttpStatusCode Status, JsonElement Body)> RefreshAsync(string refreshToken) =>
        TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = ClientId,
            ["refresh_token"] = refreshToken,
        });

    /// <summary>Signs in from scratch and returns the token response.</summary>
    public async Task<TokenSet> SignInAsync(string username, string password, int? port = null)
    {
        var redirect = LoopbackRedirect(port ?? AppPort());
        var verifier = NewVerifier();
        var code = await SignInForCodeAsync(username, password, redirect, verifier);
        var (status, body) = await RedeemAsync(code, redirect, verifier);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return TokenSet.From(body);
    }

    public void Dispose()
    {
        browser.Dispose();
        app.Dispose();
    }

    public static HttpClient ApiClient(Uri server, string accessToken)
    {
        var client = new HttpClient { BaseAddress = server };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    private static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : "";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed record TokenSet(string AccessToken, string RefreshToken, string? IdToken, int ExpiresIn)
{
    public static TokenSet From(JsonElement body) => new(
        body.GetProperty("access_token").GetString()!,
        body.GetProperty("refresh_token").GetString()!,
        body.TryGetProperty("id_token", out var id) ? id.GetString() : null,
        body.GetProperty("expires_in").GetInt32());
}
