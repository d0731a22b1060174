using ConnText.Browser.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class DesktopChromiumGroup : ICollectionFixture<Chromium>
{
    // One Chromium for every test that drives a desktop window or plays the system browser; they run one at a time.
    public const string Name = "Desktop Chromium";
}

/// <summary>What a person does in the desktop window, through Playwright.</summary>
public static class DesktopWindow
{
    /// <summary>Opens the window's URL in <paramref name="tab"/> and waits until the UI is interactive.</summary>
    public static async Task OpenAsync(BrowserTab tab, DesktopProcess desktop)
    {
        // Sends go through the outbox and a reconnect may come first (a new conversation): slower on a busy machine.
        SetDefaultExpectTimeout(20_000);
        await tab.Page.GotoAsync(desktop.LaunchUrl.AbsoluteUri);
        await WaitInteractiveAsync(tab.Page);
    }

    public static Task WaitInteractiveAsync(IPage page) =>
        Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 30_000 });

    /// <summary>
    /// "Add account" in the window, then the sign-in in the system browser (a second, separate browser context, as the
    /// system browser shares nothing with the app window), up to the account showing in the window.
    /// </summary>
    public static Task AddAccountAsync(Chromium chromium, BrowserTab window, DesktopProcess desktop, Uri server, string username) =>
        AddAccountAsync(chromium, window.Page, desktop, server, username);

    /// <summary>The same in any page showing the desktop's UI (the real app window, say).</summary>
    public static async Task AddAccountAsync(Chromium chromium, IPage page, DesktopProcess desktop, Uri server, string username)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Add account" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Add account" })).ToBeVisibleAsync();
        await WaitInteractiveAsync(page);
        await page.GetByLabel("Server address").FillAsync(server.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with browser" }).ClickAsync();

        var signInUrl = await desktop.NextSignInUrlAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith(new Uri(server, "/connect/authorize?").AbsoluteUri, signInUrl, StringComparison.Ordinal);
        Assert.Contains("code_challenge_method=S256", signInUrl, StringComparison.Ordinal);
        Assert.Contains("redirect_uri=http%3a%2f%2f127.0.0.1%3a", signInUrl, StringComparison.OrdinalIgnoreCase);

        await using var systemBrowser = await BrowserTab.OpenAsync(chromium);
        var login = systemBrowser.Page;
        await login.GotoAsync(signInUrl);
        await login.GetByLabel("Username").FillAsync(username);
        await login.GetByLabel("Password").FillAsync(SignedInUsers.Password);
        await login.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(login.GetByText("You can close this window and return to ConnText.")).ToBeVisibleAsync();

        await Expect(page.Locator(".sidebar-header .who")).ToContainTextAsync($"{username}@{server.Authority}");
        await WaitInteractiveAsync(page);
    }

    public static ILocator Connection(IPage page) => page.Locator(".sidebar-header .connection");

    public static ILocator SentMessages(IPage page) => page.Locator("article.message:not(.pending) .text");

    public static async Task SendAsync(IPage page, string text)
    {
        var composer = page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });
        await composer.FillAsync(text);
        await composer.PressAsync("Enter");
        await Expect(composer).ToHaveValueAsync("");
    }
}
