namespace ConnText.Desktop.Hosting;

/// <summary>Settings of the desktop host (section <c>ConnText:Desktop</c>; see docs/desktop.md).</summary>
internal sealed class DesktopOptions
{
    public const string Section = "ConnText:Desktop";

    /// <summary>Per-user data directory; default $XDG_DATA_HOME/conntext (~/.local/share/conntext).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Run the engine and UI server without a window (<c>--headless</c>).</summary>
    public bool Headless { get; set; }

    /// <summary>A Chromium-family browser to use for the window instead of searching PATH.</summary>
    public string? Browser { get; set; }

    /// <summary>Extra arguments for the window's browser, separated by spaces (e.g. <c>--force-device-scale-factor=1.5</c>).</summary>
    public string? BrowserArguments { get; set; }

    /// <summary>
    /// How sign-in opens the system browser: <c>default</c> (xdg-open / open / start), <c>stdout</c> (print the URL
    /// on a <c>CONNTEXT_SIGNIN_URL</c> line: automation and tests), or a program to run with the URL.
    /// </summary>
    public string SystemBrowser { get; set; } = "default";

    /// <summary>The server address "Add account" suggests (scripts/run.sh sets it to the server it starts).</summary>
    public string? DefaultServer { get; set; }

    /// <summary>Where notifications go: <c>auto</c>, <c>freedesktop</c> (D-Bus), <c>window</c> (web notifications) or <c>off</c>.</summary>
    public string Notifications { get; set; } = "auto";

    public string ResolveDataDirectory()
    {
        if (!string.IsNullOrEmpty(DataDirectory))
        {
            return Path.GetFullPath(DataDirectory);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = !string.IsNullOrEmpty(xdg)
            ? xdg
            : OperatingSystem.IsWindows()
                ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "conntext");
    }
}
