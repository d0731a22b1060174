using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Plugins;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.Plugins;

/// <summary>
/// The three sample plugins and two misbehaving ones installed in a running desktop (headless, against the real
/// server): enabled in the plugin manager after seeing their permissions, configured in their settings panels, then
/// used in a conversation while a throwing and a hanging plugin are contained and disabled.
/// </summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed partial class PluginsEndToEndTests(Chromium chromium) : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("conntext-desktop-plugins-").FullName;
    private ServerInstance server = null!;
    private DesktopProcess desktop = null!;
    private BrowserTab window = null!;

    public async Task InitializeAsync()
    {
        var plugins = Path.Combine(dataDirectory, "plugins");
        PluginFolders.Install(plugins, PluginFolders.Dice);
        PluginFolders.Install(plugins, PluginFolders.TrackerLinks);
        PluginFolders.Install(plugins, PluginFolders.KeywordAlerts);
        PluginFolders.InstallMisbehaving(plugins, "thrower", "ThrowingPlugin", PluginPermissions.OutgoingMessages);
        PluginFolders.InstallMisbehaving(plugins, "sleeper", "HangingPlugin", PluginPermissions.OutgoingMessages);
        PluginFolders.Install(plugins, PluginFolders.Dice, "future-dice", m =>
        {
            m["id"] = "future-dice";
            m["apiRange"] = "[2.0.0, 3.0.0)";
        });

        server = await TestServers.StartAsync();
        desktop = await DesktopProcess.StartAsync(dataDirectory, "--ConnText:Plugins:HookTimeout=00:00:01");
        window = await BrowserTab.OpenAsync(chromium);
        window.ServerLog = () => desktop.Output;
    }

    public async Task DisposeAsync()
    {
        await window.DisposeAsync();
        await desktop.DisposeAsync();
        await server.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task SamplePlugins_EnabledAndUsedInAConversation_MisbehavingOnesContained()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        using var bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        await DesktopWindow.OpenAsync(window, desktop);
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, server.Address, "alice");
        var alice = (await bob.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=alice"))!.Items.Single();
        using var created = await bob.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        var conversation = (await created.Content.ReadFromJsonAsync<ConversationResponse>())!;

        // The plugin manager: everything off, the incompatible one explains why.
        var page = window.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "Plugins" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Plugins", Exact = true })).ToBeVisibleAsync();
        await DesktopWindow.WaitInteractiveAsync(page);
        await Expect(Plugin(page, "future-dice").GetByTestId("plugin-problem"))
            .ToContainTextAsync("Made for plugin API [2.0.0, 3.0.0); this ConnText provides API 1.0.0");
        await Expect(Plugin(page, "future-dice").GetByRole(AriaRole.Button, new() { Name = "Enable…" })).ToHaveCountAsync(0);

        await EnableAsync(page, "conntext.dice", "commands", "ui");
        await EnableAsync(page, "conntext.tracker-links", "messages.outgoing", "ui", "storage");
        await EnableAsync(page, "conntext.keyword-alerts", "messages.incoming", "notifications", "ui", "storage");
        await EnableAsync(page, "thrower", "messages.outgoing");
        await EnableAsync(page, "sleeper", "messages.outgoing");

        await ConfigureAsync(page, "conntext.tracker-links", "Issue URL", "https://tracker.invalid/issues/{id}");
        await ConfigureAsync(page, "conntext.keyword-alerts", "Keywords", "deploy, release");

        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        await DesktopWindow.WaitInteractiveAsync(page);
        await page.Locator("[data-conversation='bob']").ClickAsync();

        // Slash command, from the dice's composer button: the roll is sent, not the command.
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll dice" }).ClickAsync();
        var composer = page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });
        await Expect(composer).ToHaveValueAsync("/roll 2d6");
        await composer.PressAsync("Enter");
        await Expect(composer).ToHaveValueAsync("");
        await Expect(DesktopWindow.SentMessages(page).Last).ToHaveTextAsync(RolledText());

        // Outgoing transform: #123 becomes a link to the configured tracker.
        await DesktopWindow.SendAsync(page, "fixes #123");
        await Expect(DesktopWindow.SentMessages(page).Last.Locator("a[href='https://tracker.invalid/issues/123']")).ToHaveTextAsync("#123");

        // Third send: the throwing and the hanging plugin have now failed three times each and are disabled.
        await DesktopWindow.SendAsync(page, "third message");
        await Expect(DesktopWindow.SentMessages(page).Last).ToHaveTextAsync("third message");
        await Expect(page.Locator(".plugin-notice.problem[data-plugin='thrower']")).ToContainTextAsync("Disabled after 3 failures");
        await Expect(page.Locator(".plugin-notice.problem[data-plugin='sleeper']")).ToContainTextAsync("did not finish within 1 s");

        // Messaging still works, and the server stored exactly what the plugins made of each message.
        await DesktopWindow.SendAsync(page, "after the failures");
        await Expect(DesktopWindow.SentMessages(page).Last).ToHaveTextAsync("after the failures");
        var history = (await bob.GetFromJsonAsync<MessagePageResponse>($"/api/v1/conversations/{conversation.Id}/messages?limit=10"))!;
        var texts = history.Items.Where(m => m.Kind == MessageKinds.Text).OrderBy(m => m.Sequence).Select(m => m.Text!).ToList();
        Assert.Equal(4, texts.Count);
        Assert.Matches(RolledMarkdown(), texts[0]);
        Assert.Equal(new[] { "fixes [#123](https://tracker.invalid/issues/123)", "third message", "after the failures" }, texts.Skip(1));

        // Incoming hook: Bob mentions a keyword; a notification and a note under his message.
        using var sent = await bob.PostAsJsonAsync($"/api/v1/conversations/{conversation.Id}/messages", new SendMessageRequest(Guid.NewGuid(), "we deploy at 5, see #77"));
        sent.EnsureSuccessStatusCode();
        await Expect(page.Locator(".plugin-notice[data-plugin='conntext.keyword-alerts']")).ToContainTextAsync("bob mentioned deploy");
        var bobsMessage = page.Locator("article.message", new() { HasText = "we deploy at 5" });
        await Expect(bobsMessage.Locator(".plugin-note")).ToContainTextAsync("🔔 deploy");

        // Message action: the tracker's "Issue links" on Bob's message adds a note.
        await bobsMessage.GetByRole(AriaRole.Button, new() { Name = "Issue links" }).ClickAsync();
        await Expect(bobsMessage.Locator(".plugin-note[data-plugin='conntext.tracker-links']")).ToHaveTextAsync("Tracker links: #77: https://tracker.invalid/issues/77");

        // The manager shows why the two were disabled.
        await page.GetByRole(AriaRole.Link, new() { Name = "Plugins" }).ClickAsync();
        await Expect(Plugin(page, "thrower")).ToHaveAttributeAsync("data-status", "failed");
        await Expect(Plugin(page, "thrower").GetByTestId("plugin-problem")).ToContainTextAsync("boom");
        await Expect(Plugin(page, "sleeper")).ToHaveAttributeAsync("data-status", "failed");
        await Expect(Plugin(page, "conntext.dice")).ToHaveAttributeAsync("data-status", "enabled");
        Assert.False(desktop.HasExited);
        window.AssertNoProblems("in the window");
    }

    private static ILocator Plugin(IPage page, string id) => page.Locator($"section.plugin[data-plugin='{id}']");

    private static async Task EnableAsync(IPage page, string id, params string[] permissions)
    {
        var plugin = Plugin(page, id);
        await plugin.GetByRole(AriaRole.Button, new() { Name = "Enable…" }).ClickAsync();
        // The permissions are shown before anything of the plugin is loaded.
        await Expect(plugin.Locator("[data-permission]")).ToHaveCountAsync(permissions.Length);
        var shown = await plugin.Locator("[data-permission]").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.permission)");
        Assert.Equal(permissions, shown);
        await plugin.GetByRole(AriaRole.Button, new() { Name = "Allow and enable" }).ClickAsync();
        await Expect(plugin).ToHaveAttributeAsync("data-status", "enabled");
    }

    private static async Task ConfigureAsync(IPage page, string id, string label, string value)
    {
        var plugin = Plugin(page, id);
        var field = plugin.GetByLabel(label);
        await field.FillAsync(value);
        await field.PressAsync("Tab"); // the change event
        await plugin.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(plugin.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
    }

    [GeneratedRegex(@"^🎲 2d6: [1-6] \+ [1-6] = ([2-9]|1[0-2])$")]
    private static partial Regex RolledText();

    [GeneratedRegex(@"^🎲 2d6: [1-6] \+ [1-6] = \*\*([2-9]|1[0-2])\*\*$")]
    private static partial Regex RolledMarkdown();
}
