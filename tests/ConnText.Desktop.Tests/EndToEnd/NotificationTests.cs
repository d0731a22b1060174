using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>
/// OS notifications: a desktop in a session of the test's own (Xvfb, a D-Bus session bus, the dunst notification
/// daemon) raises a freedesktop notification for a message it is not showing, as dbus-monitor sees it on the bus;
/// clicking it in dunst opens the conversation in the window.
/// </summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class NotificationTests(Chromium chromium) : IAsyncLifetime
{
    private DesktopSession session = null!;
    private ServerInstance server = null!;
    private DesktopProcess desktop = null!;
    private BrowserTab window = null!;

    public async Task InitializeAsync()
    {
        session = await DesktopSession.StartAsync();
        server = await TestServers.StartAsync();
        desktop = await DesktopProcess.StartAsync(null, session.Environment);
        window = await BrowserTab.OpenAsync(chromium);
        window.ServerLog = () => desktop.Output;
    }

    public async Task DisposeAsync()
    {
        await window.DisposeAsync();
        await desktop.DisposeAsync();
        await server.DisposeAsync();
        await session.DisposeAsync();
    }

    [Fact]
    public async Task MessageWhileNotShown_RaisesAFreedesktopNotification_ClickingItOpensTheConversation()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        using var bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        await DesktopWindow.OpenAsync(window, desktop);
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, server.Address, "alice");
        var page = window.Page;
        await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");

        // Alice's window shows no conversation; Bob writes to her.
        var alice = (await bob.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=alice"))!.Items.Single();
        using var created = await bob.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        var conversation = (await created.Content.ReadFromJsonAsync<ConversationResponse>())!;
        await SendAsync(bob, conversation.Id, "Lunch at **noon**? <b>sure</b>");

        // Plain text (no Markdown), markup escaped for servers that interpret it, a normal urgency.
        var call = await session.WaitForNotificationAsync(TimeSpan.FromSeconds(30), "string \"bob\"", "Lunch at noon? &lt;b&gt;sure&lt;/b&gt;");
        Assert.Contains("string \"ConnText\"", call, StringComparison.Ordinal);
        Assert.Contains("string \"default\"", call, StringComparison.Ordinal);
        Assert.Contains("byte 1", call, StringComparison.Ordinal);

        // A mention is urgent.
        await SendAsync(bob, conversation.Id, "@alice are you there?");
        var mention = await session.WaitForNotificationAsync(TimeSpan.FromSeconds(30), "@alice are you there?");
        Assert.Contains("byte 2", mention, StringComparison.Ordinal);
        Assert.Equal(2, session.NotifyCalls().Count);

        // The user clicks the notification on top: the window opens that conversation.
        await session.ClickNotificationAsync();
        await Expect(page.Locator(".chat-header h1")).ToHaveTextAsync("bob", new() { Timeout = 20_000 });
        await Expect(DesktopWindow.SentMessages(page).Last).ToHaveTextAsync("@alice are you there?");
        window.AssertNoProblems("in the window");
    }

    [Fact]
    public async Task CallWhileTheWindowIsClosed_RaisesAnUrgentNotification_ThenAMissedCallOne()
    {
        await SignedInUsers.RegisterAsync(server, "carol");
        using var dan = await SignedInUsers.RegisterAndSignInAsync(server, "dan");
        await DesktopWindow.OpenAsync(window, desktop);
        await DesktopWindow.AddAccountAsync(chromium, window, desktop, server.Address, "carol");
        await Expect(DesktopWindow.Connection(window.Page)).ToHaveAttributeAsync("data-state", "online");
        var carol = (await dan.GetFromJsonAsync<PageResponse<UserSummary>>("/api/v1/users?q=carol"))!.Items.Single();
        using var created = await dan.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [carol.Id]));
        var conversation = (await created.Content.ReadFromJsonAsync<ConversationResponse>())!;
        await Expect(window.Page.Locator("[data-conversation='dan']")).ToBeVisibleAsync(new() { Timeout = 20_000 });

        // Carol closes the window; the desktop goes on running. Dan calls her (over the hub, as his app would).
        // The window's unload beacon, which would end its circuit at once, is lost here on purpose (as it is now and
        // then on a loaded machine, and always when the browser is killed): the circuit then lives on for minutes,
        // and only its closed connection tells the host the window is gone.
        await window.Page.EvaluateAsync("navigator.sendBeacon = () => true"); // Blazor's unload beacon goes nowhere
        await window.Page.CloseAsync();
        await Task.Delay(2_000); // the window's connection closes with it
        var token = dan.DefaultRequestHeaders.Authorization!.Parameter!;
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, "/hubs/realtime"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        var call = await hub.InvokeAsync<ConnText.Contracts.Calls.CallResponse>("StartCall", conversation.Id, "video");

        var ringing = await session.WaitForNotificationAsync(TimeSpan.FromSeconds(30), "string \"dan\"", "Incoming video call: open ConnText to answer");
        Assert.Contains("byte 2", ringing, StringComparison.Ordinal); // urgent, as a call is

        // Dan gives up before she answers: a missed call.
        await hub.InvokeAsync<ConnText.Contracts.Calls.CallResponse>("HangUp", call.Id);
        var missed = await session.WaitForNotificationAsync(TimeSpan.FromSeconds(30), "string \"dan\"", "Missed video call");
        Assert.Contains("byte 1", missed, StringComparison.Ordinal);
    }

    private static async Task SendAsync(HttpClient client, Guid conversationId, string text)
    {
        using var sent = await client.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/messages", new SendMessageRequest(Guid.NewGuid(), text));
        sent.EnsureSuccessStatusCode();
    }
}
