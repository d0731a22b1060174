using System.Diagnostics;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>
/// The desktop as a user starts it on a desktop (here an X server of the test's own): the host opens Chromium as an
/// <c>--app</c> window with its own profile, the window is the real UI (driven over the DevTools protocol, which the
/// test asks for through <c>BrowserArguments</c>), closing it leaves the engine running, and launching again brings a
/// window back, still signed in.
/// </summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class AppWindowTests(Chromium chromium) : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("conntext-window-").FullName;
    private DesktopSession session = null!;
    private ServerInstance server = null!;
    private IPlaywright playwright = null!;
    private DesktopProcess? desktop;

    private string ProfileDirectory => Path.Combine(dataDirectory, "browser-profile");

    public async Task InitializeAsync()
    {
        session = await DesktopSession.StartAsync();
        server = await TestServers.StartAsync();
        playwright = await Playwright.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        if (desktop is not null)
        {
            await desktop.DisposeAsync(); // kills its process tree, the window's browser included
        }

        playwright.Dispose();
        await server.DisposeAsync();
        await session.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Launch_OpensAnAppWindow_ClosingItKeepsTheEngine_LaunchingAgainBringsItBack()
    {
        await SignedInUsers.RegisterAsync(server, "alice");
        desktop = DesktopProcess.LaunchWindowed(dataDirectory, session.Environment, Arguments());

        var (browser, page) = await ConnectToWindowAsync();
        await DesktopWindow.WaitInteractiveAsync(page);
        Assert.StartsWith("http://127.0.0.1:", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("s=", new Uri(page.Url).Query, StringComparison.Ordinal); // the launch secret left the address bar
        var command = BrowserCommandLines().Single();
        Assert.Contains("--app=http://127.0.0.1:", command, StringComparison.Ordinal);
        Assert.Contains("--user-data-dir=" + ProfileDirectory, command, StringComparison.Ordinal);

        await DesktopWindow.AddAccountAsync(chromium, page, desktop, server.Address, "alice");
        await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");
        await CaptureScreenAsync("desktop-window-xvfb.png");

        // The user closes the window: the browser goes, the engine stays.
        File.Delete(Path.Combine(ProfileDirectory, "DevToolsActivePort"));
        await page.CloseAsync();
        await browser.CloseAsync();
        await WaitUntilAsync(() => BrowserCommandLines().Count == 0, "the window's browser to exit");
        Assert.False(desktop.HasExited);

        // Starting ConnText again brings a window up from the running instance, still signed in.
        await using var second = DesktopProcess.LaunchWindowed(dataDirectory, session.Environment, Arguments());
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var (again, reopened) = await ConnectToWindowAsync();
        await DesktopWindow.WaitInteractiveAsync(reopened);
        await Expect(reopened.Locator(".sidebar-header .who")).ToContainTextAsync("alice@");
        await again.CloseAsync();
    }

    private static string[] Arguments() =>
    [
        "--ConnText:Desktop:Browser=" + Environment.GetEnvironmentVariable(Chromium.Variable),
        // Port 0: Chromium picks one and writes it to DevToolsActivePort in the profile. --test-type: no infobar about
        // --no-sandbox, which the host adds when run as root (as here).
        "--ConnText:Desktop:BrowserArguments=--remote-debugging-port=0 --window-size=1280,800 --window-position=0,0 --disable-gpu --test-type",
    ];

    private async Task<(IBrowser Browser, IPage Page)> ConnectToWindowAsync()
    {
        var portFile = Path.Combine(ProfileDirectory, "DevToolsActivePort");
        await WaitUntilAsync(() => File.Exists(portFile) && File.ReadAllLines(portFile).Length >= 1, "the window's DevTools port");
        var port = (await File.ReadAllLinesAsync(portFile))[0].Trim();
        var browser = await playwright.Chromium.ConnectOverCDPAsync($"http://127.0.0.1:{port}");
        IPage? page = null;
        await WaitUntilAsync(() =>
        {
            page = browser.Contexts.SelectMany(c => c.Pages).FirstOrDefault(p => p.Url.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
            return page is not null;
        }, "the app window's page");
        return (browser, page!);
    }

    /// <summary>The command lines of the browsers started for this data directory.</summary>
    private List<string> BrowserCommandLines()
    {
        var found = new List<string>();
        foreach (var process in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var command = File.ReadAllText(Path.Combine(process, "cmdline")).Replace('\0', ' ');
                // The browser process itself, not its renderers and helpers (which carry --type=).
                if (command.Contains("--user-data-dir=" + ProfileDirectory, StringComparison.Ordinal) && !command.Contains("--type=", StringComparison.Ordinal))
                {
                    found.Add(command);
                }
            }
            catch (IOException)
            {
                // Exited meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>With CONNTEXT_WRITE_SCREENSHOTS=1, the whole X screen (window and all) into docs/screenshots (needs ImageMagick's import).</summary>
    private async Task CaptureScreenAsync(string name)
    {
        if (Environment.GetEnvironmentVariable("CONNTEXT_WRITE_SCREENSHOTS") != "1")
        {
            return;
        }

        var info = new ProcessStartInfo("import") { UseShellExecute = false };
        foreach (var arg in new[] { "-window", "root", Path.Combine(Repository.Root(), "docs", "screenshots", name) })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DISPLAY"] = session.Display;
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(200);
        }
    }
}
