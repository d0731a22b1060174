using System.Diagnostics;
using ConnText.Client.Auth;
using ConnText.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace ConnText.Desktop.Launch;

/// <summary>
/// The UI's window: a Chromium-family browser in <c>--app</c> mode with its own profile under the data directory.
/// Without one, the default browser gets the URL (and it is printed). In headless mode nothing opens; the URL is
/// printed on a <c>CONNTEXT_DESKTOP_URL</c> line for automation.
/// </summary>
internal sealed partial class AppWindow(IOptions<DesktopOptions> options, ILogger<AppWindow> logger) : IDisposable
{
    public const string UrlLinePrefix = "CONNTEXT_DESKTOP_URL ";

    private static readonly string[] Candidates =
    [
        "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "microsoft-edge-stable",
        "brave-browser", "brave",
    ];

    private readonly Lock gate = new();
    private Process? browser;

    public string? Url { get; set; }

    /// <summary>Opens the window (or brings a new one up when it was closed); the engine keeps running either way.</summary>
    public void Open()
    {
        var url = Url ?? throw new InvalidOperationException("The UI server has not started.");
        var settings = options.Value;
        if (settings.Headless)
        {
            Print(url);
            return;
        }

        var path = FindBrowser(settings.Browser);
        if (path is null)
        {
            Print(url);
            LogNoBrowser(logger);
            SystemBrowser.OpenDefault(url);
            return;
        }

        var info = new ProcessStartInfo(path) { UseShellExecute = false };
        info.ArgumentList.Add("--app=" + url);
        info.ArgumentList.Add("--user-data-dir=" + Path.Combine(settings.ResolveDataDirectory(), "browser-profile"));
        info.ArgumentList.Add("--no-first-run");
        info.ArgumentList.Add("--disable-background-networking");
        info.ArgumentList.Add("--disable-component-update");
        info.ArgumentList.Add("--disable-sync");
        if (IsRoot())
        {
            info.ArgumentList.Add("--no-sandbox"); // Chromium refuses to run as root with its sandbox.
        }

        foreach (var extra in (settings.BrowserArguments ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            info.ArgumentList.Add(extra);
        }

        lock (gate)
        {
            browser?.Dispose();
            browser = Process.Start(info);
        }
    }

    /// <summary>Closes the window this process opened (on quit).</summary>
    public void Close()
    {
        lock (gate)
        {
            try
            {
                if (browser is { HasExited: false })
                {
                    browser.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            browser?.Dispose();
        }
    }

    public static string? FindBrowser(string? configured)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in Candidates)
        {
            foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static void Print(string url)
    {
        Console.Out.WriteLine(UrlLinePrefix + url);
        Console.Out.Flush();
    }

    private static bool IsRoot() => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Chromium-family browser found (set ConnText:Desktop:Browser); opening the default browser")]
    private static partial void LogNoBrowser(ILogger logger);
}

/// <summary>The system browser for sign-in (RFC 8252), per <see cref="DesktopOptions.SystemBrowser"/>.</summary>
internal sealed class SystemBrowser(IOptions<DesktopOptions> options) : ISystemBrowser
{
    public const string SignInLinePrefix = "CONNTEXT_SIGNIN_URL ";

    public async Task OpenAsync(Uri url, CancellationToken cancellationToken)
    {
        var mode = options.Value.SystemBrowser;
        if (string.Equals(mode, "stdout", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Out.WriteLineAsync(SignInLinePrefix + url.AbsoluteUri);
            await Console.Out.FlushAsync(cancellationToken);
        }
        else if (string.Equals(mode, "default", StringComparison.OrdinalIgnoreCase))
        {
            OpenDefault(url.AbsoluteUri);
        }
        else
        {
            var info = new ProcessStartInfo(mode) { UseShellExecute = false };
            info.ArgumentList.Add(url.AbsoluteUri);
            Process.Start(info)?.Dispose();
        }
    }

    public static void OpenDefault(string url)
    {
        var info = OperatingSystem.IsWindows()
            ? new ProcessStartInfo(url) { UseShellExecute = true }
            : new ProcessStartInfo(OperatingSystem.IsMacOS() ? "open" : "xdg-open") { UseShellExecute = false };
        if (!OperatingSystem.IsWindows())
        {
            info.ArgumentList.Add(url);
        }

        try
        {
            Process.Start(info)?.Dispose();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No opener installed: the URL was printed, the user can open it by hand.
            Console.Out.WriteLine(SignInLinePrefix + url);
        }
    }
}
