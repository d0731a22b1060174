using ConnText.Browser.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Browser.Tests.Accounts;

/// <summary>
/// The login and registration pages as a person sees them at a common laptop size, in light and dark mode.
/// Always runs; with CONNTEXT_WRITE_SCREENSHOTS=1 the pictures replace those in docs/screenshots (commit them),
/// otherwise they go to a temporary folder.
/// </summary>
[Collection(ChromiumTestGroup.Name)]
public sealed class AccountPagesScreenshotTests(Chromium chromium) : IAsyncLifetime
{
    private const string WriteVariable = "CONNTEXT_WRITE_SCREENSHOTS";

    private readonly bool toRepository = Environment.GetEnvironmentVariable(WriteVariable) == "1";
    private ServerInstance server = null!;
    private string folder = null!;

    public async Task InitializeAsync()
    {
        server = await Servers.StartAsync(new Dictionary<string, string?>
        {
            ["ConnText:Name"] = "Example Team Chat",
            // Shows the "Sign in with ..." area; the provider is never contacted (only its button is drawn).
            ["ConnText:Auth:ExternalProviders:corp:DisplayName"] = "Example Corp",
            ["ConnText:Auth:ExternalProviders:corp:Authority"] = "https://login.example.org/",
            ["ConnText:Auth:ExternalProviders:corp:ClientId"] = "conntext",
        });
        folder = toRepository
            ? Path.Combine(Repository.Root(), "docs", "screenshots")
            : Directory.CreateTempSubdirectory("conntext-screenshots-").FullName;
        Directory.CreateDirectory(folder);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        if (!toRepository)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(ColorScheme.Light, "")]
    [InlineData(ColorScheme.Dark, "-dark")]
    public async Task LoginAndRegisterPages_AtLaptopSize_FitTheWindowAndAreCaptured(ColorScheme scheme, string suffix)
    {
        await using var tab = await BrowserTab.OpenAsync(chromium, scheme);
        var returnUrl = Uri.EscapeDataString(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50400), OAuthBrowser.NewVerifier()));

        await tab.Page.GotoAsync(new Uri(server.Address, "/account/login?ReturnUrl=" + returnUrl).AbsoluteUri);
        await Expect(tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Example Corp" })).ToBeVisibleAsync();
        await AssertFitsTheWindowAsync(tab.Page);
        await CaptureAsync(tab.Page, $"login{suffix}.png");

        await tab.Page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await Expect(tab.Page.GetByRole(AriaRole.Heading, new() { Name = "Create an account" })).ToBeVisibleAsync();
        await AssertFitsTheWindowAsync(tab.Page);
        await CaptureAsync(tab.Page, $"register{suffix}.png");

        tab.AssertNoProblems("on the login and registration pages");
    }

    /// <summary>Nothing to scroll to at 1280×800: the whole form and its button are in view.</summary>
    private static async Task AssertFitsTheWindowAsync(IPage page)
    {
        var overflow = await page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth - innerWidth, document.documentElement.scrollHeight - innerHeight]");
        Assert.True(overflow[0] <= 0 && overflow[1] <= 0, $"The page is larger than the window by {overflow[0]}×{overflow[1]} px at {page.Url}");
        var card = await page.Locator("main").BoundingBoxAsync();
        Assert.NotNull(card);
        Assert.InRange(card.X, 1, 1280 - card.Width);
        Assert.InRange(card.Y, 1, 800 - card.Height);
    }

    private async Task CaptureAsync(IPage page, string name)
    {
        var path = Path.Combine(folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });
        Assert.True(new FileInfo(path).Length > 1_000, $"{path} is (almost) empty");
    }
}
