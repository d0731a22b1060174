using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>
/// The desktop's main screens at a laptop window size, light and dark. Always runs (and checks that nothing overflows
/// the window); with CONNTEXT_WRITE_SCREENSHOTS=1 the pictures replace those in docs/screenshots.
/// </summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class DesktopScreenshotTests(Chromium chromium) : IAsyncLifetime
{
    private readonly bool toRepository = Environment.GetEnvironmentVariable("CONNTEXT_WRITE_SCREENSHOTS") == "1";
    private ServerInstance server = null!;
    private DesktopProcess desktop = null!;
    private string folder = null!;

    public async Task InitializeAsync()
    {
        server = await TestServers.StartAsync(new Dictionary<string, string?> { ["ConnText:Name"] = "Example Team Chat" });
        desktop = await DesktopProcess.StartAsync();
        folder = toRepository
            ? Path.Combine(RepositoryRoot(), "docs", "screenshots")
            : Directory.CreateTempSubdirectory("conntext-screenshots-").FullName;
    }

    public async Task DisposeAsync()
    {
        await desktop.DisposeAsync();
        await server.DisposeAsync();
        if (!toRepository)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task MainScreens_LightAndDark_FitTheWindowAndAreCaptured()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        using var bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var alice = (await bob.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=alice"))!.Items.Single();
        var carolId = (await bob.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=carol"))!.Items.Single().Id;

        await using var window = await BrowserTab.OpenAsync(chromium);
        await DesktopWindow.OpenAsync(window, desktop);
        await CaptureAsync(window.Page, "desktop-welcome.png");
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, server.Address, "alice");

        var group = await CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Group, [alice.Id, carolId], "Release planning", "Ship 0.2 on Friday"));
        var direct = await CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        await SendAsync(bob, group.Id, "Morning! The **release notes** draft is in `docs/release.md`.");
        await SendAsync(carol, group.Id, "I'll review it after lunch. Checklist: https://example.org/checklist");
        await SendAsync(bob, direct.Id, "Do you have a minute for the *login* bug?");

        var page = window.Page;
        await Expect(page.Locator("[data-conversation='Release planning'] .badge")).ToHaveTextAsync("2", new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-conversation='bob'] .badge")).ToHaveTextAsync("1");
        await page.Locator("[data-conversation='Release planning']").ClickAsync();
        await DesktopWindow.SendAsync(page, "Thanks both, I'll merge the **desktop** branch today.");
        await Expect(page.Locator("article.message.pending")).ToHaveCountAsync(0);
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-chat.png");

        await page.GetByRole(AriaRole.Button, new() { Name = "Theme: auto" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Theme: light" }).ClickAsync();
        await Expect(page.Locator(".app[data-theme=dark]")).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-chat-dark.png");

        await page.GetByRole(AriaRole.Button, new() { Name = "New conversation" }).ClickAsync();
        await page.GetByLabel("Find people").FillAsync("c");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "carol" }).CheckAsync();
        await CaptureAsync(page, "desktop-new-conversation-dark.png");
        window.AssertNoProblems("in the window");
    }

    private static async Task<ConversationResponse> CreateAsync(HttpClient api, CreateConversationRequest request)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/conversations", request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ConversationResponse>())!;
    }

    private static async Task SendAsync(HttpClient api, Guid conversationId, string text)
    {
        using var response = await api.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/messages", new SendMessageRequest(Guid.NewGuid(), text));
        response.EnsureSuccessStatusCode();
    }

    private async Task CaptureAsync(IPage page, string name)
    {
        // Nothing may need a page scrollbar at this size: the app scrolls inside its panes.
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > innerWidth || document.documentElement.scrollHeight > innerHeight");
        Assert.False(overflow, $"{name}: the page is larger than the window.");
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name) });
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ConnText.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Not inside the repository.");
    }
}
