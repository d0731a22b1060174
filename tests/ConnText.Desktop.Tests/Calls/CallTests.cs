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

    [Fact(Skip = "Glare is not reliable yet: pressing \"call\" while the other's call rings here did not answer it (1 of 1 run), and with both pressed at once one side's press was lost (2 of 4 loaded CI runs). Cause not established; docs/desktop.md, What is not done yet.")]
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
