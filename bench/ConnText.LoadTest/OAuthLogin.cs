using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;

namespace ConnText.LoadTest;

/// <summary>The outcome of one request: done, refused because the server is busy (503), or another failure.</summary>
internal enum Outcome
{
    Ok,
    Busy,
    Failed,
}

/// <summary>
/// Signs in exactly as the desktop app does (RFC 8252): the system browser opens the authorization endpoint with
/// code + PKCE S256, the server's login form is submitted, the code comes back in the redirect to the app's loopback
/// listener (read from the Location header here, never contacted), and the app redeems it at the token endpoint.
/// A fresh cookie jar per sign-in, so every one costs a password verification.
/// </summary>
internal static class OAuthLogin
{
    private const string ClientId = "conntext-desktop";
    private const string Redirect = "http://127.0.0.1:9/oauth/callback";

    public static async Task<(Outcome Outcome, string? AccessToken)> SignInAsync(
        Uri server, string username, string password, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        using var browser = new HttpClient(handler) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = ClientId;
        query["response_type"] = "code";
        query["redirect_uri"] = Redirect;
        query["scope"] = "openid offline_access api";
        query["state"] = "bench";
        query["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        query["code_challenge_method"] = "S256";
        query["device_name"] = "load test";
        query["device_platform"] = "linux";

        using var loginPage = await FollowAsync(browser, new Uri(server, "/connect/authorize?" + query), cancellationToken);
        if (loginPage.StatusCode != HttpStatusCode.OK)
        {
            return (OutcomeOf(loginPage.StatusCode), null);
        }

        var html = await loginPage.Content.ReadAsStringAsync(cancellationToken);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(html, "__RequestVerificationToken"),
            ["ReturnUrl"] = Hidden(html, "ReturnUrl"),
            ["Username"] = username,
            ["Password"] = password,
        });
        using var submitted = await browser.PostAsync(new Uri(server, "/account/login"), form, cancellationToken);
        if (submitted.StatusCode != HttpStatusCode.Redirect || submitted.Headers.Location is null)
        {
            return (OutcomeOf(submitted.StatusCode), null);
        }

        using var toApp = await FollowAsync(browser, new Uri(server, submitted.Headers.Location.OriginalString), cancellationToken);
        var code = toApp.Headers.Location is { } location ? HttpUtility.ParseQueryString(location.Query)["code"] : null;
        if (code is null)
        {
            return (Outcome.Failed, null);
        }

        using var redeem = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ClientId,
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
        });
        using var tokens = await browser.PostAsync(new Uri(server, "/connect/token"), redeem, cancellationToken);
        if (tokens.StatusCode != HttpStatusCode.OK)
        {
            return (OutcomeOf(tokens.StatusCode), null);
        }

        using var json = JsonDocument.Parse(await tokens.Content.ReadAsStringAsync(cancellationToken));
        return (Outcome.Ok, json.RootElement.GetProperty("access_token").GetString());
    }

    private static Outcome OutcomeOf(HttpStatusCode status) =>
        status is HttpStatusCode.ServiceUnavailable ? Outcome.Busy : Outcome.Failed;

    private static async Task<HttpResponseMessage> FollowAsync(HttpClient browser, Uri url, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop < 10; hop++)
        {
            var response = await browser.GetAsync(url, cancellationToken);
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther))
            {
                return response;
            }

            var next = new Uri(url, response.Headers.Location!);
            if (next.Authority != url.Authority)
            {
                return response; // the redirect back to the app
            }

            response.Dispose();
            url = next;
        }

        throw new InvalidOperationException("too many redirects");
    }

    private static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"", RegexOptions.None, TimeSpan.FromSeconds(1));
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : "";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
