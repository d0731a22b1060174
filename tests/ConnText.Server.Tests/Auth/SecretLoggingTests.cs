using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnText.Server.Tests.Auth;

/// <summary>With every log level on, no password, code, token or invite appears in any log line.</summary>
public sealed class SecretLoggingTests
{
    [Theory]
    [InlineData(Provider.Sqlite)]
    [InlineData(Provider.Postgres)]
    public async Task FullAccountLifecycle_AtTraceLevel_LogsNoSecret(Provider provider)
    {
        var capture = new LogCapture();
        await using var server = await ServerInstance.StartAsync(provider,
            new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Trace",
                ["Logging:LogLevel:Microsoft"] = "Trace",
                ["ConnText:Accounts:RegistrationMode"] = "Open",
            },
            services => services.AddSingleton<ILoggerProvider>(capture));

        const string password = "unique-password-4b1f9c";
        const string wrongPassword = "unique-wrong-password-77aa01";
        using (var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("carol", password)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var browser = new OAuthBrowser(server.Address);
        // A failed attempt first: failures are logged, with no password.
        using (var page = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50100), OAuthBrowser.NewVerifier())))
        using (await browser.SubmitLoginAsync(page, "carol", wrongPassword))
        {
        }

        var redirect = OAuthBrowser.LoopbackRedirect(50101);
        var verifier = OAuthBrowser.NewVerifier();
        var code = await browser.SignInForCodeAsync("carol", password, redirect, verifier);
        var (_, body) = await browser.RedeemAsync(code, redirect, verifier);
        var tokens = TokenSet.From(body);
        var (_, refreshed) = await browser.RefreshAsync(tokens.RefreshToken);
        var rotated = TokenSet.From(refreshed);

        using var api = OAuthBrowser.ApiClient(server.Address, rotated.AccessToken);
        using var patResponse = await api.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("bot", ["read"]));
        var pat = (await patResponse.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!.Token;
        using var patApi = OAuthBrowser.ApiClient(server.Address, pat);
        using (await patApi.GetAsync("/api/v1/me"))
        {
        }

        // The browser-only way of passing a token (SignalR's access_token query) must not leak through request logging either.
        using (await server.Client.GetAsync($"/api/v1/me?access_token={Uri.EscapeDataString(rotated.AccessToken)}"))
        {
        }

        using (var change = await api.PostAsJsonAsync("/api/v1/me/password", new ChangePasswordRequest(password, "another-unique-passphrase-90ce")))
        {
            Assert.Equal(HttpStatusCode.NoContent, change.StatusCode);
        }

        Assert.NotEmpty(capture.Lines);
        var secrets = new[]
        {
            password, wrongPassword, "another-unique-passphrase-90ce", code, verifier,
            tokens.AccessToken, tokens.RefreshToken, tokens.IdToken!, rotated.AccessToken, rotated.RefreshToken, pat,
        };
        foreach (var line in capture.Lines)
        {
            foreach (var secret in secrets)
            {
                Assert.False(line.Contains(secret, StringComparison.Ordinal), $"A secret appears in the log: {line[..Math.Min(line.Length, 300)]}");
            }
        }

        Assert.Contains(capture.Lines, l => l.Contains("Login failed", StringComparison.Ordinal));
        Assert.Contains(capture.Lines, l => l.Contains("Login succeeded", StringComparison.Ordinal));
    }
}
