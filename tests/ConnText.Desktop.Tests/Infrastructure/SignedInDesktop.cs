using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.Infrastructure;

/// <summary>
/// A real server (SQLite), one headless desktop process and its window, with <c>alice</c> signed in through the PKCE
/// flow; other users act through the server's REST API as other apps would.
/// </summary>
public sealed class SignedInDesktop : IAsyncDisposable
{
    private ServerInstance? server;

    private SignedInDesktop(ServerInstance server, DesktopProcess desktop, BrowserTab window)
    {
        this.server = server;
        Desktop = desktop;
        Window = window;
    }

    public ServerInstance Server => server ?? throw new InvalidOperationException("The server was stopped.");

    public DesktopProcess Desktop { get; }

    public BrowserTab Window { get; }

    public IPage Page => Window.Page;

    public static async Task<SignedInDesktop> StartAsync(Chromium chromium, string username = "alice")
    {
        var server = await TestServers.StartAsync();
        await SignedInUsers.RegisterAsync(server, username);
        var desktop = await DesktopProcess.StartAsync();
        var window = await BrowserTab.OpenAsync(chromium);
        window.ServerLog = () => desktop.Output;
        var signedIn = new SignedInDesktop(server, desktop, window);
        await DesktopWindow.OpenAsync(window, desktop);
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, server.Address, username);
        await Expect(DesktopWindow.Connection(window.Page)).ToHaveAttributeAsync("data-state", "online");
        return signedIn;
    }

    /// <summary>Registers <paramref name="username"/> and returns an API client of theirs (a new session) and their directory entry.</summary>
    public async Task<(HttpClient Api, UserSummary User)> UserAsync(string username, bool register = true)
    {
        if (register)
        {
            await SignedInUsers.RegisterAsync(Server, username);
        }

        var api = await SignedInUsers.SignInAsync(Server, username);
        return (api, await FindAsync(api, username));
    }

    public static async Task<UserSummary> FindAsync(HttpClient api, string username) =>
        (await api.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=" + username))!.Items.Single(u => u.Username == username);

    public static async Task<ConversationResponse> CreateAsync(HttpClient api, CreateConversationRequest request)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/conversations", request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ConversationResponse>())!;
    }

    public static async Task<MessageResponse> SendAsync(HttpClient api, Guid conversationId, string text)
    {
        using var response = await api.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/messages", new SendMessageRequest(Guid.NewGuid(), text));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<MessageResponse>())!;
    }

    /// <summary>Stops the server (the desktop goes offline).</summary>
    public async Task StopServerAsync()
    {
        await Server.DisposeAsync();
        server = null;
    }

    public async ValueTask DisposeAsync()
    {
        await Window.DisposeAsync();
        await Desktop.DisposeAsync();
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>
/// Base of the end-to-end test classes that each test starts from a fresh <see cref="SignedInDesktop"/> (a new server,
/// desktop and window per test, so no test sees another's data).
/// </summary>
public abstract class SignedInDesktopTests(Chromium chromium) : IAsyncLifetime
{
    private SignedInDesktop? app;

    /// <summary>The test's server, desktop and signed-in window.</summary>
    protected SignedInDesktop App => app ?? throw new InvalidOperationException("Not started yet.");

    public async Task InitializeAsync() => app = await SignedInDesktop.StartAsync(chromium);

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }
}
