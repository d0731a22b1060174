using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>One desktop signed in to accounts on two different servers at once.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class MultiAccountTests(Chromium chromium) : IAsyncLifetime
{
    private ServerInstance work = null!;
    private ServerInstance club = null!;
    private DesktopProcess desktop = null!;
    private BrowserTab window = null!;

    public async Task InitializeAsync()
    {
        work = await TestServers.StartAsync();
        club = await TestServers.StartAsync();
        desktop = await DesktopProcess.StartAsync();
        window = await BrowserTab.OpenAsync(chromium);
        window.ServerLog = () => desktop.Output;
    }

    public async Task DisposeAsync()
    {
        await window.DisposeAsync();
        await desktop.DisposeAsync();
        await work.DisposeAsync();
        await club.DisposeAsync();
    }

    [Fact]
    public async Task TwoServers_BothAccountsRunSideBySide_UnreadCountsPerAccount()
    {
        await SignedInUsers.RegisterAsync(work, "alice");
        await SignedInUsers.RegisterAsync(club, "carol");
        using var dave = await SignedInUsers.RegisterAndSignInAsync(club, "dave");

        await DesktopWindow.OpenAsync(window, desktop);
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, work.Address, "alice");
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, club.Address, "carol");
        var page = window.Page;
        var aliceAccount = page.Locator($"[data-account='alice@{work.Address.Authority}']");
        var carolAccount = page.Locator($"[data-account='carol@{club.Address.Authority}']");
        await Expect(aliceAccount).ToBeVisibleAsync();
        await Expect(carolAccount).ToHaveAttributeAsync("aria-pressed", "true");

        // Alice's account is shown while a message reaches Carol on the other server.
        await aliceAccount.ClickAsync();
        await Expect(page.Locator(".sidebar-header .who")).ToContainTextAsync("alice@");
        var carol = (await dave.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=carol"))!.Items.Single();
        using var created = await dave.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [carol.Id]));
        var conversation = (await created.Content.ReadFromJsonAsync<ConversationResponse>())!;
        using var sent = await dave.PostAsJsonAsync($"/api/v1/conversations/{conversation.Id}/messages", new SendMessageRequest(Guid.NewGuid(), "Practice at 7?"));
        sent.EnsureSuccessStatusCode();

        await Expect(carolAccount.Locator("[data-testid=account-unread]")).ToHaveTextAsync("1", new() { Timeout = 20_000 });
        await Expect(aliceAccount.Locator("[data-testid=account-unread]")).ToHaveCountAsync(0);

        await carolAccount.ClickAsync();
        await page.Locator("[data-conversation='dave']").ClickAsync();
        await Expect(DesktopWindow.SentMessages(page).Last).ToHaveTextAsync("Practice at 7?");
        await Expect(carolAccount.Locator("[data-testid=account-unread]")).ToHaveCountAsync(0);

        // Both servers know this device by the same key: the one in its data directory.
        var device = ConnText.Client.Devices.DeviceIdentity.LoadOrCreate(desktop.DataDirectory, "unused");
        using var carolApi = await SignedInUsers.SignInAsync(club, "carol");
        using var aliceApi = await SignedInUsers.SignInAsync(work, "alice");
        foreach (var api in new[] { carolApi, aliceApi })
        {
            var sessions = (await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!;
            Assert.Contains(sessions, s => s.DeviceKeyFingerprint == device.Fingerprint);
        }
        window.AssertNoProblems("in the window");
    }
}
