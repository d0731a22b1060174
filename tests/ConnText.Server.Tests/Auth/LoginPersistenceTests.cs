using System.Net;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Auth;

public sealed class LoginPersistenceTests
{
    [Fact]
    public async Task BrowserLogin_SurvivesAServerRestart_OnTheSameDataDirectory()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("conntext-restart-").FullName;
        var port = ServerProcess.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["ConnText:DataDirectory"] = dataDirectory,
            ["Urls"] = $"http://127.0.0.1:{port}",
        };
        try
        {
            OAuthBrowser browser;
            await using (var first = await ServerInstance.StartAsync(Provider.Sqlite, settings))
            {
                await SignedInUsers.RegisterAsync(first, "alice");
                browser = new OAuthBrowser(first.Address);
                await browser.SignInAsync("alice", SignedInUsers.Password);
            }

            using (browser)
            await using (var second = await ServerInstance.StartAsync(Provider.Sqlite, settings))
            {
                // The login cookie from before the restart still signs the browser in: no login page this time.
                using var response = await browser.FollowAsync(
                    OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50300), OAuthBrowser.NewVerifier()));
                Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
                Assert.StartsWith("http://127.0.0.1:50300/oauth/callback?code=", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task LoginPages_HaveAPolicyThatLetsTheirFormsWork()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        using var page = await server.Client.GetAsync("/account/login");
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("form-action 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("style-src 'unsafe-inline'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", policy, StringComparison.Ordinal);
    }
}
