using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Per-conversation mute (the server's setting) in the chat header and the list; list previews as plain text.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class MuteAndPreviewTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task Mute_FromTheChatHeader_IsStoredOnTheServerAndShownInTheList()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        using var alice = await SignedInUsers.SignInAsync(App.Server, "alice");
        var aliceUser = await SignedInDesktop.FindAsync(bob, "alice");
        var direct = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [aliceUser.Id]));
        await SignedInDesktop.SendAsync(bob, direct.Id, "The **release** is _today_, see [the notes](https://example.org/notes) and `v2`");

        // The preview is plain text: no Markdown markers, the link's label.
        var item = page.Locator("[data-conversation='bob']");
        await Expect(item.Locator(".preview")).ToHaveTextAsync("bob: The release is today, see the notes and v2", new() { Timeout = 20_000 });

        await item.ClickAsync();
        var mute = page.GetByRole(AriaRole.Button, new() { Name = "Mute notifications" });
        await Expect(mute).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(item.Locator("[data-testid=muted]")).ToHaveCountAsync(0);

        await mute.ClickAsync();
        await Expect(mute).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(item.Locator("[data-testid=muted]")).ToBeVisibleAsync();
        Assert.True((await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{direct.Id}"))!.Muted);

        // The list refresh keeps the server's value (it is not only local state).
        await Task.Delay(2500);
        await Expect(item.Locator("[data-testid=muted]")).ToBeVisibleAsync();

        await mute.ClickAsync();
        await Expect(mute).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(item.Locator("[data-testid=muted]")).ToHaveCountAsync(0);
        Assert.False((await alice.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{direct.Id}"))!.Muted);

        // Muted on another device: this one follows with its next list refresh.
        using var muted = await alice.PutAsJsonAsync($"/api/v1/conversations/{direct.Id}/settings", new UpdateMySettingsRequest(true));
        muted.EnsureSuccessStatusCode();
        await Expect(mute).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(item.Locator("[data-testid=muted]")).ToBeVisibleAsync();
        App.Window.AssertNoProblems("in the window");
    }
}
