using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;

namespace ConnText.Server.Tests.Infrastructure;

/// <summary>Registers users and signs them in through the real OAuth flow, returning API clients.</summary>
public static class SignedInUsers
{
    public const string Password = "correct horse battery staple";

    public static async Task RegisterAsync(ServerInstance server, string username, string password = Password)
    {
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest(username, password));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An API client with a fresh OAuth access token (a new session) for the user.</summary>
    public static Task<HttpClient> SignInAsync(ServerInstance server, string username, string password = Password) =>
        SignInAsync(server.Address, username, password);

    /// <summary>The same against a server at <paramref name="server"/> (e.g. a server process).</summary>
    public static async Task<HttpClient> SignInAsync(Uri server, string username, string password = Password)
    {
        using var browser = new OAuthBrowser(server);
        var tokens = await browser.SignInAsync(username, password);
        return OAuthBrowser.ApiClient(server, tokens.AccessToken);
    }

    public static async Task RegisterAsync(Uri server, string username, string password = Password)
    {
        using var client = new HttpClient { BaseAddress = server };
        using var response = await client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest(username, password));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<HttpClient> RegisterAndSignInAsync(ServerInstance server, string username)
    {
        await RegisterAsync(server, username);
        return await SignInAsync(server, username);
    }
}
