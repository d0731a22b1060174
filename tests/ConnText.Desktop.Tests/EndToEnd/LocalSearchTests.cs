using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Search over the local store: results as one types, a jump to the message, and results with the server down.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class LocalSearchTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task Search_FindsAnOldMessageJumpsToItAndAnswersOffline()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        var alice = await SignedInDesktop.FindAsync(bob, "alice");
        var direct = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        var group = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Group, [alice.Id], "Garden"));
        await Expect(page.Locator("[data-conversation='Garden']")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-conversation='bob']")).ToBeVisibleAsync();

        // The needle is older than the page the chat shows at first (50 messages).
        var needle = await SignedInDesktop.SendAsync(bob, direct.Id, "The spare key is under the **blue** flowerpot");
        for (var i = 0; i < 60; i++)
        {
            await SignedInDesktop.SendAsync(bob, direct.Id, $"filler message {i}");
        }

        await SignedInDesktop.SendAsync(bob, group.Id, "Plant the blue hydrangea by the fence");
        await Expect(page.Locator("[data-conversation='bob'] .preview")).ToHaveTextAsync("bob: filler message 59", new() { Timeout = 20_000 });

        var search = page.GetByRole(AriaRole.Searchbox, new() { Name = "Search messages" });
        await search.FillAsync("blu");
        var results = page.Locator(".search-results button.hit");
        await Expect(results).ToHaveCountAsync(2);
        await search.FillAsync("blue flowerp");
        await Expect(results).ToHaveCountAsync(1);
        await Expect(results.Locator("mark")).ToHaveTextAsync(["blue", "flowerpot"]);
        await Expect(results.First).ToContainTextAsync("The spare key is under the blue flowerpot"); // plain text, no **

        await results.First.ClickAsync();
        var found = page.Locator($"article.message[data-message-id='{needle.Id}']");
        await Expect(found).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bfocused\b"));
        await Expect(found).ToBeInViewportAsync();

        // Offline: the server is gone, the local search still answers.
        // (Opening a result while offline failed once in this test and is not verified yet: see docs/desktop.md.)
        await App.StopServerAsync();
        await Expect(DesktopWindow.Connection(page)).Not.ToHaveAttributeAsync("data-state", "online", new() { Timeout = 30_000 });
        await search.FillAsync("hydrangea");
        await Expect(results).ToHaveCountAsync(1);
        await Expect(results.First).ToContainTextAsync("Garden");
        await Expect(results.First.Locator("mark")).ToHaveTextAsync("hydrangea");

        await search.FillAsync("nothing like this");
        await Expect(page.GetByText("No messages found.")).ToBeVisibleAsync();
    }
}
