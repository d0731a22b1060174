using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Group settings and members, driven from the window, checked on the server.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class GroupSettingsTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task Owner_RenamesAddsRemovesPromotesHandsOverAndLeaves_ServerAgreesAndRefusalsAreShown()
    {
        var page = App.Page;
        using var alice = await SignedInUsers.SignInAsync(App.Server, "alice");
        using var carol = (await App.UserAsync("carol")).Api;
        var carolUser = await SignedInDesktop.FindAsync(carol, "carol");
        await SignedInUsers.RegisterAsync(App.Server, "dave");
        var group = await SignedInDesktop.CreateAsync(alice, new CreateConversationRequest(ConversationKinds.Group, [carolUser.Id], "Trip"));

        await page.Locator("[data-conversation='Trip']").ClickAsync(new() { Timeout = 20_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Group settings" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Group settings" })).ToBeVisibleAsync();
        await Expect(page.Locator("li.member[data-member='alice']")).ToHaveAttributeAsync("data-role", "owner");

        // Name and topic.
        await page.GetByLabel("Group name").FillAsync("Summer trip");
        await page.GetByLabel("Topic").FillAsync("Lisbon, 12–19 July");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.Locator(".panel [role=status]")).ToHaveTextAsync("Saved.");
        var stored = await GetAsync(carol, group.Id);
        Assert.Equal(("Summer trip", "Lisbon, 12–19 July"), (stored.Title, stored.Topic));
        await Expect(page.Locator("[data-conversation='Summer trip']")).ToBeVisibleAsync();

        // The server's refusal, in its words: a name of only spaces.
        await page.GetByLabel("Group name").FillAsync("   ");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("A group needs a title of 1 to 100 printable characters.");
        Assert.Equal("Summer trip", (await GetAsync(carol, group.Id)).Title);

        // Add Dave from the directory, then remove him.
        await page.GetByLabel("Find people to add").FillAsync("da");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add dave" }).ClickAsync();
        await Expect(page.Locator("li.member[data-member='dave']")).ToHaveAttributeAsync("data-role", "member");
        Assert.Contains((await GetAsync(carol, group.Id)).Members, m => m.Username == "dave");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove dave" }).ClickAsync();
        await Expect(page.Locator("li.member[data-member='dave']")).ToHaveCountAsync(0);
        Assert.DoesNotContain((await GetAsync(carol, group.Id)).Members, m => m.Username == "dave");

        // Roles: Carol becomes an admin, then the owner; Alice is an admin and loses the owner's controls.
        await page.GetByRole(AriaRole.Button, new() { Name = "Make carol an admin" }).ClickAsync();
        await Expect(page.Locator("li.member[data-member='carol']")).ToHaveAttributeAsync("data-role", "admin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make carol the owner" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Transfer" }).ClickAsync();
        await Expect(page.Locator("li.member[data-member='carol']")).ToHaveAttributeAsync("data-role", "owner");
        await Expect(page.Locator("li.member[data-member='alice']")).ToHaveAttributeAsync("data-role", "admin");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Make carol a member" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Remove carol" })).ToHaveCountAsync(0);
        var roles = (await GetAsync(carol, group.Id)).Members.ToDictionary(m => m.Username, m => m.Role);
        Assert.Equal(MemberRoles.Owner, roles["carol"]);
        Assert.Equal(MemberRoles.Admin, roles["alice"]);

        // Leaving: the group goes from the list here and Alice from its members there.
        await page.GetByRole(AriaRole.Button, new() { Name = "Leave group" }).ClickAsync();
        await Expect(page.Locator("[data-conversation='Summer trip']")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Group settings" })).ToHaveCountAsync(0);
        Assert.DoesNotContain((await GetAsync(carol, group.Id)).Members, m => m.Username == "alice");
        await Task.Delay(2500); // A list refresh does not bring it back.
        await Expect(page.Locator("[data-conversation='Summer trip']")).ToHaveCountAsync(0);
        App.Window.AssertNoProblems("in the window");
    }

    [Fact]
    public async Task Member_SeesNoManagementControls()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        var alice = await SignedInDesktop.FindAsync(bob, "alice");
        await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Group, [alice.Id], "Book club", "Dune"));

        await page.Locator("[data-conversation='Book club']").ClickAsync(new() { Timeout = 20_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Group settings" }).ClickAsync();
        await Expect(page.Locator("li.member[data-member='bob']")).ToHaveAttributeAsync("data-role", "owner");
        await Expect(page.GetByText("Only the owner and admins change the name and topic.")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Group name")).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("Find people to add")).ToHaveCountAsync(0);
        await Expect(page.Locator(".member-actions button")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Leave group" })).ToBeEnabledAsync();
        App.Window.AssertNoProblems("in the window");
    }

    private static async Task<ConversationResponse> GetAsync(HttpClient api, Guid id) =>
        (await api.GetFromJsonAsync<ConversationResponse>($"/api/v1/conversations/{id}"))!;
}
