using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Infinite scroll back: scrolling to the top of a long history loads older pages without a click.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class HistoryScrollTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task ScrollingToTheTop_LoadsOlderPages_UntilTheBeginning()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        var alice = await SignedInDesktop.FindAsync(bob, "alice");
        var direct = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        for (var i = 1; i <= 130; i++)
        {
            await SignedInDesktop.SendAsync(bob, direct.Id, $"history line {i}");
        }

        await Expect(page.Locator("[data-conversation='bob'] .preview")).ToHaveTextAsync("bob: history line 130", new() { Timeout = 30_000 });
        await page.Locator("[data-conversation='bob']").ClickAsync();
        var messages = page.Locator("article.message");
        await Expect(messages.Last).ToContainTextAsync("history line 130");
        await Expect(messages).ToHaveCountAsync(50); // one page at first
        await Expect(page.GetByText("history line 1", new() { Exact = true })).ToHaveCountAsync(0);

        // The reader scrolls up (the wheel, as a person would) until the first line: pages load as the top comes near.
        var scroller = page.Locator(".scroller");
        await scroller.HoverAsync();
        var first = page.GetByText("history line 1", new() { Exact = true });
        for (var i = 0; i < 60 && await first.CountAsync() == 0; i++)
        {
            await page.Mouse.WheelAsync(0, -2000);
            await Task.Delay(200);
        }

        await Expect(first).ToBeVisibleAsync();
        await Expect(messages).ToHaveCountAsync(130);
        await Expect(page.GetByText("This is the beginning of the conversation.")).ToBeVisibleAsync();
        await Expect(page.Locator(".load-older")).ToHaveCountAsync(0);
        App.Window.AssertNoProblems("while scrolling back");
    }
}
