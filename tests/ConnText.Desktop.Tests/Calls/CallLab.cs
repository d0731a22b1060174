using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.Calls;

/// <summary>
/// Everything a call test needs, inside a network namespace the lab creates (Chromium's WebRTC ignores loopback, and
/// no packet may leave the machine): loopback plus a veth pair (<c>ct0</c> 10.77.0.1, <c>ct1</c> 10.77.0.2; the
/// kernel may lack the dummy driver), on which the browsers' host candidates live. In it run coturn (scripts/coturn.sh, test profile, on 127.0.0.1), the real server
/// (its executable, SQLite), the desktop executables, and one headless Chromium with a fake camera and microphone.
/// The test process itself stays outside and reaches all of it only through Chromium (Playwright's pipe) and the
/// processes' standard streams.
/// </summary>
public sealed class CallLab : IAsyncLifetime
{
    public const string TurnSecret = "call-lab-turn-secret-0123456789abcdef";
    public const int ServerPort = 5180;
    public const int TurnPort = 3479;

    /// <summary>Short, so the "missed" outcome is testable; every other test answers well within it.</summary>
    public static readonly TimeSpan RingTimeout = TimeSpan.FromSeconds(12);

    private const string Setup =
        "set -e; ip link set lo up; ip link add ct0 type veth peer name ct1; ip addr add 10.77.0.1/24 dev ct0; " +
        "ip addr add 10.77.0.2/24 dev ct1; ip link set ct0 up; ip link set ct1 up; echo ready; exec cat >/dev/null";

    private readonly List<Process> processes = [];
    private readonly List<DesktopProcess> started = [];
    private readonly List<IPage> pages = [];
    private readonly StringBuilder log = new();
    private string directory = null!;
    private Process holder = null!;
    private IPlaywright? playwright;

    public static Uri Server { get; } = new($"http://127.0.0.1:{ServerPort}/");

    /// <summary>The server's data directory (its database and stored files).</summary>
    public string ServerDataDirectory => Path.Combine(directory, "server");

    /// <summary>The command that runs a program inside the lab's namespace.</summary>
    public IReadOnlyList<string> Prefix { get; private set; } = [];

    public IBrowser Browser { get; private set; } = null!;

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        directory = Directory.CreateTempSubdirectory("conntext-call-lab-").FullName;
        var root = IsRoot();
        // As root a network namespace needs no user namespace; otherwise the user is mapped to root in a new one.
        holder = Spawn(root ? ["unshare", "--net", "sh", "-c", Setup] : ["unshare", "--map-root-user", "--net", "sh", "-c", Setup], "netns", stdin: true);
        await WaitForAsync(() => Log.Contains("[netns] ready", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the network namespace");
        var pid = holder.Id.ToString(CultureInfo.InvariantCulture);
        Prefix = root
            ? ["nsenter", "--target", pid, "--net"]
            : ["nsenter", "--target", pid, "--user", "--net", "--preserve-credentials"];

        var coturn = Environment.GetEnvironmentVariable("CONNTEXT_TEST_COTURN");
        Assert.False(string.IsNullOrEmpty(coturn), "CONNTEXT_TEST_COTURN is not set: run the tests through scripts/test.sh (it installs coturn).");
        var secret = Path.Combine(directory, "turn-secret");
        await File.WriteAllTextAsync(secret, TurnSecret);
        var turnDirectory = Path.Combine(directory, "coturn");
        Spawn([.. Prefix, "bash", coturn, "--profile", "test", "--listen", "127.0.0.1", "--port", TurnPort.ToString(CultureInfo.InvariantCulture),
            "--relay-ports", "50000-50999", "--dir", turnDirectory, "--secret-file", secret], "coturn");
        var turnLog = Path.Combine(turnDirectory, "turnserver.log");
        await WaitForAsync(() => File.Exists(turnLog) && File.ReadAllText(turnLog).Contains("Total General servers", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "coturn");

        var serverDirectory = Path.Combine(directory, "server");
        Directory.CreateDirectory(serverDirectory);
        Spawn([.. Prefix, "dotnet", ServerProcess.ServerAssemblyPath(),
            $"--Urls=http://127.0.0.1:{ServerPort}",
            "--ConnText:DataDirectory=" + serverDirectory,
            "--ConnText:Calls:TurnSecret=" + TurnSecret,
            $"--ConnText:Calls:TurnUrls:0=turn:127.0.0.1:{TurnPort}?transport=udp",
            $"--ConnText:Calls:StunUrls:0=stun:127.0.0.1:{TurnPort}",
            "--ConnText:Calls:RingTimeout=" + RingTimeout.ToString("c", CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:ConnText.Server.Calls=Information"], "server", workingDirectory: serverDirectory);

        var chromium = Environment.GetEnvironmentVariable(ChromiumVariable);
        Assert.False(string.IsNullOrEmpty(chromium), $"{ChromiumVariable} is not set: run the tests through scripts/test.sh.");
        var wrapper = Path.Combine(directory, "chromium-in-lab.sh");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec {string.Join(' ', Prefix.Select(Quote))} {Quote(chromium)} \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = wrapper,
            Headless = true,
            Args = ChromiumArguments(root),
        });

        await WaitForServerAsync();
    }

    public async Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("CONNTEXT_CALL_LAB_LOG") is { Length: > 0 } keep)
        {
            // The server's, desktops' and windows' output, for a failure's diagnosis.
            await File.AppendAllTextAsync(keep, Log + string.Concat(started.Select((d, i) => $"--- desktop {i}\n{d.Output}\n"))
                                                + string.Concat(pages.Select(p => "--- window\n" + CallWindow.ConsoleOf(p))));
        }

        if (playwright is not null)
        {
            if (Browser is not null)
            {
                await Browser.DisposeAsync();
            }

            playwright.Dispose();
        }

        foreach (var process in Enumerable.Reverse(processes))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // coturn's or the server's last writes; the OS cleans the temp directory.
        }
    }

    /// <summary>A desktop executable (headless) inside the lab.</summary>
    public async Task<DesktopProcess> StartDesktopAsync(params string[] extraArgs)
    {
        var desktop = await DesktopProcess.StartInAsync(Prefix, null, extraArgs);
        started.Add(desktop);
        return desktop;
    }

    /// <summary>Registers an account on the lab's server (through Chromium: the server is only reachable inside the lab).</summary>
    public async Task RegisterAsync(string username)
    {
        // The server's responses forbid scripts and connections (CSP); this page is the test's, not the server's.
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync(new Uri(Server, "/health/ready").AbsoluteUri);
            var result = await page.EvaluateAsync<string>("""
                async ([username, password]) => {
                    const response = await fetch('/api/v1/accounts', {
                        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
                    return response.status + ' ' + await response.text();
                }
                """, new[] { username, SignedInUsers.Password });
            Assert.True(result.StartsWith("201", StringComparison.Ordinal), result);
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>A desktop's window: its own browser context, camera and microphone allowed, signed in as <paramref name="username"/>.</summary>
    public async Task<IPage> OpenSignedInAsync(DesktopProcess desktop, string username)
    {
        var page = await WindowAsync(desktop, username);
        SetDefaultExpectTimeout(20_000);

        await page.GetByRole(AriaRole.Link, new() { Name = "Add account" }).First.ClickAsync();
        await DesktopWindow.WaitInteractiveAsync(page);
        await page.GetByLabel("Server address").FillAsync(Server.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with browser" }).ClickAsync();
        var signInUrl = await desktop.NextSignInUrlAsync(TimeSpan.FromSeconds(30));

        // The system browser shares nothing with the app window: a separate context.
        var systemBrowser = await Browser.NewContextAsync();
        try
        {
            var login = await systemBrowser.NewPageAsync();
            await login.GotoAsync(signInUrl);
            await login.GetByLabel("Username").FillAsync(username);
            await login.GetByLabel("Password").FillAsync(SignedInUsers.Password);
            await login.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
            await Expect(login.GetByText("You can close this window and return to ConnText.")).ToBeVisibleAsync();
        }
        finally
        {
            await systemBrowser.CloseAsync();
        }

        await Expect(page.Locator(".sidebar-header .who")).ToContainTextAsync(username);
        await DesktopWindow.WaitInteractiveAsync(page);
        await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");
        return page;
    }

    /// <summary>A new window on a desktop whose account is already signed in (as after closing and reopening it).</summary>
    public async Task<IPage> ReopenAsync(DesktopProcess desktop, string username)
    {
        var page = await WindowAsync(desktop, username);
        await Expect(page.Locator(".sidebar-header .who")).ToContainTextAsync(username);
        await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");
        return page;
    }

    /// <summary>A window on the desktop's UI (its own browser context, camera and microphone allowed), interactive.</summary>
    private async Task<IPage> WindowAsync(DesktopProcess desktop, string username)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Locale = "en-US",
            Permissions = ["camera", "microphone"],
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        CallWindow.Record(page, username);
        pages.Add(page);
        await page.GotoAsync(desktop.LaunchUrl.AbsoluteUri);
        await DesktopWindow.WaitInteractiveAsync(page);
        return page;
    }

    private const string ChromiumVariable = ConnText.Browser.Tests.Infrastructure.Chromium.Variable;

    private static List<string> ChromiumArguments(bool root)
    {
        List<string> arguments =
        [
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            // A fake camera (moving test pattern) and microphone (a beep), permission prompts answered yes.
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            "--auto-select-desktop-capture-source=Entire screen",
            "--autoplay-policy=no-user-gesture-required",
            // Host candidates with their addresses rather than mDNS names (nothing resolves .local in the lab).
            "--disable-features=WebRtcHideLocalIpsWithMdns",
        ];
        if (root)
        {
            arguments.Add("--no-sandbox"); // Chromium refuses to run as root with its sandbox.
        }

        return arguments;
    }

    private static bool IsRoot()
    {
        var status = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return status.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0";
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private async Task WaitForServerAsync()
    {
        var context = await Browser.NewContextAsync();
        try
        {
            var page = await context.NewPageAsync();
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    var response = await page.GotoAsync(new Uri(Server, "/health/ready").AbsoluteUri);
                    if (response is { Status: 200 })
                    {
                        return;
                    }
                }
                catch (PlaywrightException) when (deadline.Elapsed < TimeSpan.FromSeconds(90))
                {
                    // Not listening yet.
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), "The server did not become ready:\n" + Log);
                await Task.Delay(250);
            }
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < timeout, $"{what} did not start within {timeout}:\n{Log}");
            await Task.Delay(100);
        }
    }

    private Process Spawn(IReadOnlyList<string> command, string name, bool stdin = false, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin, // the holder lives while this pipe is open, so a crashed test leaves nothing behind
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? directory,
        };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        var process = Process.Start(info)!;
        processes.Add(process);
        process.OutputDataReceived += (_, e) => Append(name, e.Data);
        process.ErrorDataReceived += (_, e) => Append(name, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(string name, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.Append('[').Append(name).Append("] ").AppendLine(line);
            }
        }
    }
}

/// <summary>What the call tests read from a desktop window: the WebRTC module's figures (calls.js <c>stats()</c>).</summary>
public static class CallWindow
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, StringBuilder> Consoles = [];

    /// <summary>Keeps the window's console messages (the WebRTC module's warnings) for a failure's message.</summary>
    public static void Record(IPage page, string name)
    {
        var console = Consoles.GetOrCreateValue(page);
        page.Console += (_, message) =>
        {
            lock (console)
            {
                console.Append('[').Append(name).Append(' ').Append(message.Type).Append("] ").AppendLine(message.Text);
            }
        };
    }

    /// <summary>What the window's console said so far.</summary>
    public static string ConsoleOf(IPage page)
    {
        if (!Consoles.TryGetValue(page, out var console))
        {
            return "";
        }

        lock (console)
        {
            return console.ToString();
        }
    }

    public static async Task<JsonElement> StatsAsync(IPage page) =>
        await page.EvaluateAsync<JsonElement>("() => globalThis.conntextCalls ? globalThis.conntextCalls.stats() : { active: false, peers: [] }");

    /// <summary>The first remote device's figures.</summary>
    public static async Task<JsonElement?> PeerAsync(IPage page, int index = 0)
    {
        var stats = await StatsAsync(page);
        var peers = stats.GetProperty("peers");
        return peers.GetArrayLength() > index ? peers[index] : null;
    }

    /// <summary>Polls until <paramref name="condition"/> holds for the figures (or fails with the last ones seen).</summary>
    public static async Task<JsonElement> WaitAsync(IPage page, Func<JsonElement, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        JsonElement last = default;
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            last = await StatsAsync(page);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        // What the user sees of the call (its phase, an end status, an error) says which way it went.
        var shown = await page.Locator("[data-testid='call-phase'], [data-testid='call-status'], [role=alert], [role=alertdialog]").AllInnerTextsAsync();
        Assert.Fail($"{what}: not within the time; last figures: {last}\nshown: {string.Join(" | ", shown)}\nconsole:\n{ConsoleOf(page)}");
        return last;
    }

    public static long Number(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? (long)value.GetDouble() : 0;

    public static double Real(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : 0;

    public static string? Text(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Every remote peer's figures.</summary>
    public static IEnumerable<JsonElement> Peers(this JsonElement stats) => stats.GetProperty("peers").EnumerateArray();
}
