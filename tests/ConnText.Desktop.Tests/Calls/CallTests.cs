using ConnText.Browser.Tests.Infrastructure;
using ConnText.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.Calls;

/// <summary>
/// Calls between desktop apps, end to end: the desktop executables, the real server and coturn, and Chromium's WebRTC
/// with a fake camera and microphone, all inside the <see cref="CallLab"/>'s network namespace. What is checked is what
/// each side's getStats says (decoded frames, received audio, the selected candidate pair), and the window's UI.
/// </summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class CallTests(CallLab lab) : IClassFixture<CallLab>, IAsyncLifetime
{
    private static readonly string[] DirectCandidateTypes = ["host", "prflx"];

    private readonly List<DesktopProcess> desktops = [];
    private readonly List<IPage> windows = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var window in windows)
        {
            await window.Context.CloseAsync();
        }

        foreach (var desktop in desktops)
        {
            await desktop.DisposeAsync();
        }
    }

    [Fact]
    public async Task VideoCall_Direct_BothDecodeMedia_MuteCameraOffAndHangUpWork()
    {
        var (a, b) = await DirectConversationAsync("alice", "bob");

        await a.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-phase")).ToHaveTextAsync("Calling…");
        var incoming = b.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" });
        await Expect(incoming).ToContainTextAsync("Incoming video call");
        Assert.True(await RingingAsync(b), "the ringtone plays while the call rings");
        await incoming.GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();

        foreach (var (page, who) in new[] { (a, "alice"), (b, "bob") })
        {
            var stats = await CallWindow.WaitAsync(page,
                s => s.Peers().Any(p => p.Number("framesDecoded") > 0 && p.Number("audioPacketsReceived") > 0 && p.Text("dtlsState") == "connected"),
                $"{who} decodes video and receives audio");
            var peer = stats.Peers().Single();
            Assert.Equal("direct", peer.Text("path"));
            // Direct between the two namespaces' addresses: host candidates, or peer-reflexive ones when a connectivity
            // check arrived before the other side's candidate did (the same address, learned first from the check).
            Assert.Contains(peer.Text("localCandidateType"), DirectCandidateTypes);
            Assert.Contains(peer.Text("remoteCandidateType"), DirectCandidateTypes);
        }

        Assert.False(await RingingAsync(b), "answering stops the ringtone");
        await Expect(a.GetByTestId("call-path")).ToHaveTextAsync("Direct (peer-to-peer) · DTLS-SRTP encrypted");
        await Expect(b.GetByTestId("call-path")).ToHaveAttributeAsync("data-path", "direct");
        await Expect(a.GetByTestId("call-quality")).ToContainTextAsync("kbit/s");
        await Expect(a.GetByTestId("call-timer")).Not.ToHaveTextAsync("0:00", new() { Timeout = 5_000 });

        // Mute: Alice's microphone track is disabled, and what Bob receives carries no sound energy any more.
        var speaking = await AudioEnergyGainedAsync(b);
        await a.GetByRole(AriaRole.Button, new() { Name = "Mute", Exact = true }).ClickAsync();
        await Expect(a.GetByRole(AriaRole.Button, new() { Name = "Unmute", Exact = true })).ToBeVisibleAsync();
        await CallWindow.WaitAsync(a, s => !s.GetProperty("audioTrackEnabled").GetBoolean(), "the microphone track is disabled");
        await Task.Delay(1_000); // what was already on its way
        var muted = await AudioEnergyGainedAsync(b);
        Assert.True(speaking > 0, $"Bob hears the fake microphone before the mute (energy +{speaking})");
        Assert.True(muted < speaking / 10, $"after the mute Bob hears (almost) nothing: energy +{muted}, before +{speaking}");

        // Camera off: Bob decodes no more frames from Alice; on again, they come back.
        await a.GetByRole(AriaRole.Button, new() { Name = "Camera off", Exact = true }).ClickAsync();
        await CallWindow.WaitAsync(a, s => !s.GetProperty("cameraOn").GetBoolean(), "the camera is released");
        await Task.Delay(1_500);
        var before = (await CallWindow.PeerAsync(b))!.Value.Number("framesDecoded");
        await Task.Delay(2_000);
        var after = (await CallWindow.PeerAsync(b))!.Value.Number("framesDecoded");
        Assert.Equal(before, after);
        await a.GetByRole(AriaRole.Button, new() { Name = "Camera on", Exact = true }).ClickAsync();
        await CallWindow.WaitAsync(b, s => s.Peers().Single().Number("framesDecoded") > after + 10, "Bob decodes Alice's frames again");

        // Hang up: both sides end the call as completed, and close their connections.
        await a.GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");
        await Expect(b.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");
        await Expect(b.GetByTestId("call-status")).ToContainTextAsync("Call ended");
        await CallWindow.WaitAsync(b, s => !s.GetProperty("active").GetBoolean(), "Bob's side is closed");
    }

    [Fact]
    public async Task VideoCall_RelayOnly_ConnectsThroughCoturnAndSaysSo()
    {
        var (a, b) = await DirectConversationAsync("rhea", "remo", "--ConnText:Desktop:Calls:RelayOnly=true");

        await a.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await b.GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();

        foreach (var (page, who) in new[] { (a, "rhea"), (b, "remo") })
        {
            var stats = await CallWindow.WaitAsync(page,
                s => s.Peers().Any(p => p.Number("framesDecoded") > 0 && p.Number("audioPacketsReceived") > 0),
                $"{who} decodes video and receives audio through the relay");
            var peer = stats.Peers().Single();
            Assert.Equal("relay", peer.Text("path"));
            Assert.Equal("relay", peer.Text("localCandidateType"));
        }

        await Expect(a.GetByTestId("call-path")).ToHaveTextAsync("Through a relay (TURN) · DTLS-SRTP encrypted");
        await b.GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");
    }

    [Fact]
    public async Task ScreenShare_AddedByRenegotiation_IsDecodedOnTheOtherSide()
    {
        var (a, b) = await DirectConversationAsync("sofia", "sami");
        await a.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await b.GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();
        await MediaFlowsAsync(a, "sofia");
        await MediaFlowsAsync(b, "sami");

        await a.GetByRole(AriaRole.Button, new() { Name = "Share screen", Exact = true }).ClickAsync();
        await Expect(a.GetByRole(AriaRole.Button, new() { Name = "Stop sharing", Exact = true })).ToBeVisibleAsync();
        var shared = await CallWindow.WaitAsync(b, s => s.Peers().Any(p => p.Number("screenFramesDecoded") > 5), "Sami decodes Sofia's screen");
        Assert.Equal(2, shared.Peers().Single().GetProperty("videoTracks").GetArrayLength());
        await Expect(b.Locator(".stage .tile.remote.sharing video.screen")).ToHaveCountAsync(1);
        // The camera goes on beside the screen.
        var camera = shared.Peers().Single().Number("framesDecoded") - shared.Peers().Single().Number("screenFramesDecoded");
        await CallWindow.WaitAsync(b, s => s.Peers().Single().Number("framesDecoded") - s.Peers().Single().Number("screenFramesDecoded") > camera + 10,
            "Sami still decodes Sofia's camera");

        if (Environment.GetEnvironmentVariable("CONNTEXT_WRITE_SCREENSHOTS") == "1")
        {
            await Task.Delay(1_500); // a few seconds of timer and quality figures
            await b.ScreenshotAsync(new() { Path = Path.Combine(Repository.Root(), "docs", "screenshots", "desktop-call-screen-share.png") });
        }

        await a.GetByRole(AriaRole.Button, new() { Name = "Stop sharing", Exact = true }).ClickAsync();
        await Expect(b.Locator(".stage .tile.remote.sharing")).ToHaveCountAsync(0);
        await a.GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(b.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");
    }

    [Fact]
    public async Task Outcomes_DeclineMissedAndBusy_EndAsTheServerDefines()
    {
        var pages = await PeopleAsync(["olga", "oscar", "otto"]);
        var (a, b, c) = (pages[0], pages[1], pages[2]);
        await ConversationAsync(a, [(b, "oscar")], "olga", null);
        await ConversationAsync(c, [(b, "oscar")], "otto", null);
        await b.Locator("[data-conversation='olga']").ClickAsync();
        await a.Locator("[data-conversation='oscar']").ClickAsync();

        // Declined.
        await a.GetByRole(AriaRole.Button, new() { Name = "Audio call", Exact = true }).ClickAsync();
        await Expect(b.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" })).ToContainTextAsync("Incoming audio call");
        await b.GetByRole(AriaRole.Button, new() { Name = "Decline", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "declined");
        await Expect(a.GetByTestId("call-status")).ToContainTextAsync("oscar declined");
        await Expect(b.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "declined");
        Assert.False(await RingingAsync(b));

        // Missed: nobody answers before the ring timeout.
        await a.GetByRole(AriaRole.Button, new() { Name = "Audio call", Exact = true }).ClickAsync();
        await Expect(b.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" })).ToBeVisibleAsync();
        var missed = new LocatorAssertionsToHaveAttributeOptions { Timeout = (float)(CallLab.RingTimeout.TotalMilliseconds + 15_000) };
        await Expect(a.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "missed", missed);
        await Expect(a.GetByTestId("call-status")).ToContainTextAsync("No answer");
        await Expect(b.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "missed", missed);
        await Expect(b.GetByTestId("call-status")).ToContainTextAsync("Missed call from olga");
        Assert.False(await RingingAsync(b));

        // Busy: Oscar is in a call with Olga when Otto calls him.
        await a.GetByRole(AriaRole.Button, new() { Name = "Audio call", Exact = true }).ClickAsync();
        await b.GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-timer")).ToBeVisibleAsync();
        await c.GetByRole(AriaRole.Button, new() { Name = "Audio call", Exact = true }).ClickAsync();
        await Expect(c.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "busy");
        await Expect(c.GetByTestId("call-status")).ToContainTextAsync("oscar is busy");
        await Expect(b.GetByTestId("call-timer")).ToBeVisibleAsync(); // Oscar's call goes on
        await b.GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(a.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");
    }

    [Fact]
    public async Task GroupCall_ThreePeopleMesh_EachDecodesBothOthers()
    {
        var pages = await PeopleAsync(["gina", "gus", "gwen"]);
        await ConversationAsync(pages[0], [(pages[1], "gus"), (pages[2], "gwen")], "gina", "Standup");

        await pages[0].GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await pages[1].GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();
        await pages[2].GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();

        foreach (var (page, who) in pages.Zip(["gina", "gus", "gwen"]))
        {
            await MediaFlowsAsync(page, who, peers: 2);
            await Expect(page.Locator(".stage .tile.remote")).ToHaveCountAsync(2);
        }

        // One leaves; the other two go on.
        await pages[2].GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(pages[0].Locator(".stage .tile.remote")).ToHaveCountAsync(1);
        await Expect(pages[1].Locator(".stage .tile.remote")).ToHaveCountAsync(1);
        await Expect(pages[0].GetByTestId("call-timer")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task DirectFileTransfer_50MB_InterruptedAndResumed_HashEqual_NeverThroughTheServer()
    {
        var (sender, receiver) = await DirectConversationAsync("tina", "theo");
        var source = Path.Combine(Path.GetTempPath(), $"conntext-p2p-{Guid.NewGuid():N}.bin");
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(50_000_000);
        await File.WriteAllBytesAsync(source, bytes);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        try
        {
            // The receiving window drops its connections once 20 MB have arrived: an interruption at a known point.
            await receiver.WaitForFunctionAsync("() => !!globalThis.conntextPeers");
            await receiver.EvaluateAsync("() => globalThis.conntextPeers.dropAt(20000000)");
            await sender.GetByLabel("Send a file directly").SetInputFilesAsync(source);

            var incoming = receiver.Locator(".transfer[data-direction='in']");
            await Expect(incoming).ToHaveAttributeAsync("data-state", "offered", new() { Timeout = 60_000 });
            await Expect(incoming).ToContainTextAsync("tina wants to send you this file directly");
            await ScreenshotAsync(receiver, "desktop-direct-transfer-offered.png");
            await incoming.GetByRole(AriaRole.Button, new() { Name = "Accept", Exact = true }).ClickAsync();

            var outgoing = sender.Locator(".transfer[data-direction='out']");
            await Expect(incoming).ToHaveAttributeAsync("data-state", "done", new() { Timeout = 120_000 });
            await Expect(outgoing).ToHaveAttributeAsync("data-state", "done", new() { Timeout = 30_000 });
            await Expect(outgoing).ToContainTextAsync("Sent directly to theo ✓ SHA-256 verified (resumed after");
            await ScreenshotAsync(receiver, "desktop-direct-transfer-received.png");

            var received = (await receiver.EvaluateAsync<System.Text.Json.JsonElement>("() => globalThis.conntextPeers.transfers()"))[0];
            Assert.True(received.Number("interruptions") >= 1, $"the transfer was not interrupted: {received}");
            Assert.Equal(expected, received.Text("sha256"));
            var path = received.Text("path")!;
            Assert.Equal(expected, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))));
            Assert.Equal("received", Path.GetFileName(Path.GetDirectoryName(path)));

            // Never through the server: nothing of that size was stored there.
            Assert.DoesNotContain(Directory.GetFiles(lab.ServerDataDirectory, "*", SearchOption.AllDirectories), f => new FileInfo(f).Length >= 20_000_000);
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task DirectFileTransfer_NoDeviceAnswers_OffersTheServerInstead_AndSendsItAsAnAttachment()
    {
        await lab.RegisterAsync("ria");
        await lab.RegisterAsync("rob");
        var ria = await OpenAsync(await StartAsync([]), "ria");
        var robDesktop = await StartAsync([]);
        var rob = await OpenAsync(robDesktop, "rob");
        await ConversationAsync(ria, [(rob, "rob")], "ria", null);
        await rob.Context.CloseAsync(); // Rob's device is online, but no window of his can take a direct transfer

        var source = Path.Combine(Path.GetTempPath(), $"conntext-fallback-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(source, string.Concat(Enumerable.Repeat("through the server, since no peer answered\n", 2000)));
        try
        {
            await ria.GetByLabel("Send a file directly").SetInputFilesAsync(source);
            var outgoing = ria.Locator(".transfer[data-direction='out']");
            await Expect(outgoing).ToHaveAttributeAsync("data-state", "unreachable", new() { Timeout = 30_000 });
            await Expect(outgoing).ToContainTextAsync("rob cannot be reached directly");
            await outgoing.GetByRole(AriaRole.Button, new() { Name = "Send through the server" }).ClickAsync();
            await Expect(outgoing).ToHaveAttributeAsync("data-state", "uploaded", new() { Timeout = 30_000 });

            // An ordinary message with the file: in the chat on both sides.
            var name = Path.GetFileName(source);
            await Expect(ria.Locator(".message").Filter(new() { HasText = name })).ToBeVisibleAsync();
            var reopened = await lab.ReopenAsync(robDesktop, "rob");
            await reopened.Locator("[data-conversation='ria']").ClickAsync();
            await Expect(reopened.Locator(".message").Filter(new() { HasText = name })).ToBeVisibleAsync();
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task PeerToPeerConversation_MessagesGoDeviceToDevice_WaitForAnOfflinePeer_NeverReachTheServer()
    {
        await lab.RegisterAsync("pia");
        await lab.RegisterAsync("pat");
        var piaDesktop = await StartAsync([]);
        var patDesktop = await StartAsync([]);
        var pia = await OpenAsync(piaDesktop, "pia");
        var pat = await OpenAsync(patDesktop, "pat");

        // Pia starts a peer-to-peer conversation with Pat.
        await pia.GetByRole(AriaRole.Button, new() { Name = "New conversation" }).ClickAsync();
        await pia.GetByLabel("Find people").FillAsync("pat");
        await pia.GetByRole(AriaRole.Checkbox, new() { Name = "pat" }).CheckAsync();
        await pia.GetByRole(AriaRole.Checkbox, new() { Name = "Peer-to-peer" }).CheckAsync();
        await pia.GetByRole(AriaRole.Button, new() { Name = "Start conversation" }).ClickAsync();
        await Expect(pia.GetByTestId("p2p-note")).ToBeVisibleAsync();
        await Expect(pia.Locator("[data-conversation='pat'][data-kind='peer-to-peer']")).ToContainTextAsync("P2P");
        await pat.Locator("[data-conversation='pia'][data-kind='peer-to-peer']").ClickAsync(new() { Timeout = 20_000 });
        await Expect(pat.GetByTestId("p2p-note")).ToBeVisibleAsync();

        // Both online: a message and its answer arrive over the data channel.
        const string First = "Meet at the old mill, 7 pm";
        await SendAsync(pia, First);
        await Expect(pat.Locator(".message .text").Filter(new() { HasText = First })).ToBeVisibleAsync(new() { Timeout = 40_000 });
        await Expect(pia.Locator(".message.pending")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
        const string Answer = "Deal, bring the lantern";
        await SendAsync(pat, Answer);
        await Expect(pia.Locator(".message .text").Filter(new() { HasText = Answer })).ToBeVisibleAsync(new() { Timeout = 40_000 });

        // Pat's window is closed: the next message waits in Pia's outbox, and goes when Pat's window is back.
        await pat.Context.CloseAsync();
        const string Second = "Change of plan: the bridge instead";
        await SendAsync(pia, Second);
        await Expect(pia.Locator(".message.pending")).ToContainTextAsync("not delivered yet");
        await ScreenshotAsync(pia, "desktop-p2p-conversation.png");
        await Task.Delay(3_000);
        await Expect(pia.Locator(".message.pending")).ToHaveCountAsync(1);
        var reopened = await lab.ReopenAsync(patDesktop, "pat");
        await reopened.Locator("[data-conversation='pia'][data-kind='peer-to-peer']").ClickAsync();
        await Expect(reopened.Locator(".message .text").Filter(new() { HasText = Second })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(reopened.Locator(".message .text").Filter(new() { HasText = First })).ToBeVisibleAsync(); // stored on Pat's device
        await Expect(pia.Locator(".message.pending")).ToHaveCountAsync(0, new() { Timeout = 20_000 });

        // The server never had them: not in its database (or its write-ahead log), nor in any other file of its.
        foreach (var file in Directory.GetFiles(lab.ServerDataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var text in new[] { First, Answer, Second })
            {
                Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) < 0, $"{file} holds \"{text}\"");
                Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.Unicode.GetBytes(text)) < 0, $"{file} holds \"{text}\" (UTF-16)");
            }
        }
    }

    private static async Task SendAsync(IPage page, string text)
    {
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync(text);
        await page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter");
    }

    /// <summary>With CONNTEXT_WRITE_SCREENSHOTS=1, the window into docs/screenshots.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("CONNTEXT_WRITE_SCREENSHOTS") == "1")
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(Repository.Root(), "docs", "screenshots", name) });
        }
    }

    private static Task<bool> RingingAsync(IPage page) => page.EvaluateAsync<bool>("() => globalThis.conntextCalls.ringing()");

    /// <summary>How much sound energy the first remote device's audio gained over two seconds.</summary>
    private static async Task<double> AudioEnergyGainedAsync(IPage page)
    {
        var start = (await CallWindow.PeerAsync(page))!.Value.Real("audioEnergy");
        await Task.Delay(2_000);
        return (await CallWindow.PeerAsync(page))!.Value.Real("audioEnergy") - start;
    }

    /// <summary>Two desktops in the lab, signed in; the first starts a direct conversation with the second.</summary>
    private async Task<(IPage First, IPage Second)> DirectConversationAsync(string first, string second, params string[] desktopArgs)
    {
        var pages = await PeopleAsync([first, second], desktopArgs);
        await ConversationAsync(pages[0], [(pages[1], second)], first, null);
        return (pages[0], pages[1]);
    }

    /// <summary>Registered users, each with their own desktop, signed in.</summary>
    private async Task<IPage[]> PeopleAsync(string[] names, params string[] desktopArgs)
    {
        var pages = new List<IPage>();
        foreach (var name in names)
        {
            await lab.RegisterAsync(name);
            pages.Add(await OpenAsync(await StartAsync(desktopArgs), name));
        }

        return [.. pages];
    }

    /// <summary>
    /// <paramref name="creator"/> starts a conversation with the others (a group named <paramref name="group"/> when
    /// given); each of them opens it.
    /// </summary>
    private static async Task ConversationAsync(IPage creator, (IPage Page, string Name)[] others, string creatorName, string? group)
    {
        await creator.GetByRole(AriaRole.Button, new() { Name = "New conversation" }).ClickAsync();
        foreach (var (_, name) in others)
        {
            await creator.GetByLabel("Find people").FillAsync(name);
            await creator.GetByRole(AriaRole.Checkbox, new() { Name = name }).CheckAsync();
        }

        if (group is not null)
        {
            await creator.GetByLabel("Group name").FillAsync(group);
        }

        await creator.GetByRole(AriaRole.Button, new() { Name = group is null ? "Start conversation" : "Create group" }).ClickAsync();
        var title = group ?? others[0].Name;
        await Expect(creator.Locator(".chat-header h1")).ToHaveTextAsync(title);
        foreach (var (page, _) in others)
        {
            await page.Locator($"[data-conversation='{group ?? creatorName}']").ClickAsync(new() { Timeout = 20_000 });
            await Expect(page.Locator(".chat-header h1")).ToHaveTextAsync(group ?? creatorName);
        }

        // Each engine reconnects once to follow a new conversation (ADR 0015): a call must not ring into that gap.
        await Task.Delay(3_000);
        foreach (var page in others.Select(o => o.Page).Prepend(creator))
        {
            await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");
        }
    }

    [Fact]
    public async Task Glare_BothCall_OneCallWithMediaBothWays()
    {
        var pages = await PeopleAsync(["greta", "gil"]);
        var (a, b) = (pages[0], pages[1]);
        await ConversationAsync(a, [(b, "gil")], "greta", null);
        await b.Locator("[data-conversation='greta']").ClickAsync();
        await a.Locator("[data-conversation='gil']").ClickAsync();

        // Seen from the slower side: Gil's call already rings at Greta when she presses "call" herself; she gets his
        // call, answered (not a second call, not a busy).
        await b.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await Expect(a.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" })).ToBeVisibleAsync();
        await ScreenshotAsync(a, "desktop-incoming-call.png"); // the card below the header, its call buttons free
        await a.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync();
        await MediaFlowsAsync(a, "greta");
        await MediaFlowsAsync(b, "gil");
        await a.GetByRole(AriaRole.Button, new() { Name = "Hang up", Exact = true }).ClickAsync();
        await Expect(b.GetByTestId("call-status")).ToHaveAttributeAsync("data-reason", "completed");

        // Both at the same instant: one call with media both ways, no ringing left on either side.
        await Task.WhenAll(
            a.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync(),
            b.GetByRole(AriaRole.Button, new() { Name = "Video call", Exact = true }).ClickAsync());
        await MediaFlowsAsync(a, "greta");
        await MediaFlowsAsync(b, "gil");
        await Expect(a.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" })).ToHaveCountAsync(0);
        await Expect(b.GetByRole(AriaRole.Alertdialog, new() { Name = "Incoming call" })).ToHaveCountAsync(0);
    }

    /// <summary>Waits until the window decodes video from, and receives audio of, <paramref name="peers"/> remote devices.</summary>
    private static Task<System.Text.Json.JsonElement> MediaFlowsAsync(IPage page, string who, int peers = 1) =>
        CallWindow.WaitAsync(page,
            s => s.Peers().Count(p => p.Number("framesDecoded") > 0 && p.Number("audioPacketsReceived") > 0) == peers,
            $"{who} decodes video and receives audio from {peers} device(s)");

    private async Task<DesktopProcess> StartAsync(string[] args)
    {
        var desktop = await lab.StartDesktopAsync(args);
        desktops.Add(desktop);
        return desktop;
    }

    private async Task<IPage> OpenAsync(DesktopProcess desktop, string username)
    {
        var page = await lab.OpenSignedInAsync(desktop, username);
        windows.Add(page);
        return page;
    }
}
