using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;
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
            ? Path.Combine(Repository.Root(), "docs", "screenshots")
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
        // The list is ordered by activity and re-renders as events arrive; its items are keyed so a click lands on the
        // conversation it was aimed at (unkeyed, twice in CI it opened "bob", which had taken the element over).
        await page.Locator("[data-conversation='Release planning']").ClickAsync();
        await Expect(page.Locator(".chat-header h1")).ToHaveTextAsync("Release planning");
        await DesktopWindow.SendAsync(page, "Thanks both, I'll merge the **desktop** branch today.");
        await Expect(page.Locator("article.message.pending")).ToHaveCountAsync(0);
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-chat.png");

        // Search (local, as one types) over the chat.
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search messages" }).FillAsync("review");
        await Expect(page.Locator(".search-results button.hit")).ToHaveCountAsync(1);
        await CaptureAsync(page, "desktop-search.png");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search messages" }).FillAsync("");

        // Profile and settings, light; then dark from there.
        using var aliceApi = await SignedInUsers.SignInAsync(server, "alice");
        using (var avatar = new ByteArrayContent(Avatar()))
        {
            avatar.Headers.ContentType = new("image/png");
            using var put = await aliceApi.PutAsync("/api/v1/me/avatar", avatar);
            put.EnsureSuccessStatusCode();
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Profile and settings" }).ClickAsync();
        await page.GetByLabel("Status").FillAsync("Release week");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator(".panel [role=status]")).ToHaveTextAsync("Profile saved.");
        await Expect(page.Locator("li.session")).ToHaveCountAsync(2);
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-settings.png");
        await page.GetByRole(AriaRole.Radio, new() { Name = "Dark" }).CheckAsync();
        await Expect(page.Locator(".app[data-theme=dark]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-chat-dark.png");

        await Expect(page.Locator(".chat-header h1")).ToHaveTextAsync("Release planning", new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Group settings" }).ClickAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("li.member")).ToHaveCountAsync(3);
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-group-settings-dark.png");
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to conversation" }).ClickAsync();

        // Attachments: an image and a file from Bob, one more being attached here.
        using (var photo = new ByteArrayContent(Photo()))
        {
            using var uploaded = await bob.PostAsync("/api/v1/files?name=whiteboard.png", photo);
            uploaded.EnsureSuccessStatusCode();
            var file = (await uploaded.Content.ReadFromJsonAsync<FileResponse>())!;
            using var notes = new ByteArrayContent("Release checklist\n"u8.ToArray());
            using var uploadedNotes = await bob.PostAsync("/api/v1/files?name=checklist.txt", notes);
            uploadedNotes.EnsureSuccessStatusCode();
            var notesFile = (await uploadedNotes.Content.ReadFromJsonAsync<FileResponse>())!;
            using var sent = await bob.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                new SendMessageRequest(Guid.NewGuid(), "Whiteboard from this morning, and the checklist", null, [file.Id, notesFile.Id]));
            sent.EnsureSuccessStatusCode();
        }

        await Expect(page.Locator(".attachments img[alt='whiteboard.png']")).ToBeVisibleAsync();
        await page.Locator(".attachments img[alt='whiteboard.png']").EvaluateAsync("async img => await img.decode()");
        await page.Locator("input[type=file][aria-label='Attach files']").SetInputFilesAsync(new FilePayload
        {
            Name = "release-notes-draft.md", MimeType = "text/markdown", Buffer = "# 0.2\n"u8.ToArray(),
        });
        await Expect(page.Locator("li.upload[data-state=uploaded]")).ToHaveCountAsync(1);
        await page.Mouse.MoveAsync(0, 0);
        await CaptureAsync(page, "desktop-attachments-dark.png");

        await page.GetByRole(AriaRole.Button, new() { Name = "New conversation" }).ClickAsync();
        await page.GetByLabel("Find people").FillAsync("c");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "carol" }).CheckAsync();
        await CaptureAsync(page, "desktop-new-conversation-dark.png");
        window.AssertNoProblems("in the window");
    }

    private static byte[] Avatar()
    {
        // A plain two-tone picture: recognisable as a picture in the screenshots.
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(256, 256, new(59, 110, 245));
        for (var y = 128; y < 256; y++)
        {
            for (var x = 0; x < 256; x++)
            {
                image[x, y] = new(245, 165, 36);
            }
        }

        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
    }

    private static byte[] Photo()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(800, 500, new(250, 250, 245));
        for (var x = 0; x < 800; x++)
        {
            for (var y = 0; y < 500; y++)
            {
                if ((x / 100 + y / 100) % 2 == 0 && x % 100 > 10 && y % 100 > 10)
                {
                    image[x, y] = new(90, 140, 220);
                }
            }
        }

        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
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
}
