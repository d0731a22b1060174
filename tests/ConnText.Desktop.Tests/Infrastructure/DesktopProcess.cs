using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace ConnText.Desktop.Tests.Infrastructure;

/// <summary>
/// The desktop executable as a user starts it, headless (<c>--headless</c>): its own process and data directory. It
/// prints the UI's URL (with the launch secret) on a <c>CONNTEXT_DESKTOP_URL</c> line and, with
/// <c>SystemBrowser=stdout</c>, each sign-in URL on a <c>CONNTEXT_SIGNIN_URL</c> line: the test plays the system browser.
/// </summary>
public sealed class DesktopProcess : IAsyncDisposable
{
    public const string UrlPrefix = "CONNTEXT_DESKTOP_URL ";
    public const string SignInPrefix = "CONNTEXT_SIGNIN_URL ";

    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly Lock gate = new();
    private readonly Channel<string> signIns = Channel.CreateUnbounded<string>();
    private readonly Channel<string> urls = Channel.CreateUnbounded<string>();
    private readonly bool ownsDirectory;

    private DesktopProcess(Process process, string dataDirectory, bool ownsDirectory)
    {
        this.process = process;
        this.ownsDirectory = ownsDirectory;
        DataDirectory = dataDirectory;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }

    /// <summary>The launch URL (<c>/auth?s=…</c>).</summary>
    public Uri LaunchUrl { get; private set; } = null!;

    public int Port => LaunchUrl.Port;

    public string Secret => LaunchUrl.Query["?s=".Length..];

    public Uri Base => new($"http://127.0.0.1:{Port}/");

    public string Output
    {
        get
        {
            lock (gate)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public static string AssemblyPath()
    {
        // tests/ConnText.Desktop.Tests/bin/<Configuration>/net10.0/ → src/ConnText.Desktop/bin/<Configuration>/net10.0/
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testBin.Parent!.Name;
        var root = testBin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "src", "ConnText.Desktop", "bin", configuration, testBin.Name, "ConnText.Desktop.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the solution first.", path);
    }

    /// <summary>Starts an instance on <paramref name="dataDirectory"/> (a fresh one when null) and waits for its URL.</summary>
    public static Task<DesktopProcess> StartAsync(string? dataDirectory = null, params string[] extraArgs) =>
        StartInAsync([], dataDirectory, null, extraArgs);

    /// <summary>Starts an instance with extra environment variables (a desktop session of the test's own, say).</summary>
    public static Task<DesktopProcess> StartAsync(string? dataDirectory, IReadOnlyDictionary<string, string>? environment, params string[] extraArgs) =>
        StartInAsync([], dataDirectory, environment, extraArgs);

    /// <summary>As <see cref="StartAsync(string?, string[])"/>, run through <paramref name="prefix"/> (e.g. nsenter into a network namespace).</summary>
    public static Task<DesktopProcess> StartInAsync(IReadOnlyList<string> prefix, string? dataDirectory, params string[] extraArgs) =>
        StartInAsync(prefix, dataDirectory, null, extraArgs);

    private static async Task<DesktopProcess> StartInAsync(
        IReadOnlyList<string> prefix, string? dataDirectory, IReadOnlyDictionary<string, string>? environment, string[] extraArgs)
    {
        var desktop = Launch(prefix, dataDirectory, environment, extraArgs);
        desktop.LaunchUrl = new Uri(await desktop.NextUrlAsync(TimeSpan.FromSeconds(60)));
        return desktop;
    }

    /// <summary>Starts the executable without waiting for anything (a second launch, for one).</summary>
    public static DesktopProcess Launch(string? dataDirectory, params string[] extraArgs) => Launch([], dataDirectory, null, extraArgs);

    /// <summary>
    /// Starts the executable as a user does on a desktop: with its window (no <c>--headless</c>), in the display and
    /// session of <paramref name="environment"/>; returns at once.
    /// </summary>
    public static DesktopProcess LaunchWindowed(string? dataDirectory, IReadOnlyDictionary<string, string> environment, params string[] extraArgs) =>
        Launch([], dataDirectory, environment, extraArgs, headless: false);

    private static DesktopProcess Launch(
        IReadOnlyList<string> prefix, string? dataDirectory, IReadOnlyDictionary<string, string>? environment, string[] extraArgs, bool headless = true)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("conntext-desktop-").FullName;
        var info = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (prefix.Count > 0)
        {
            foreach (var arg in prefix.Skip(1))
            {
                info.ArgumentList.Add(arg);
            }

            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(AssemblyPath());
        if (headless)
        {
            info.ArgumentList.Add("--headless");
        }

        info.ArgumentList.Add("--data-dir=" + dataDirectory);
        info.ArgumentList.Add("--ConnText:Desktop:SystemBrowser=stdout");
        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        // Outside a desktop session of the test's own, no notification reaches the real one (if any).
        info.Environment.Remove("DBUS_SESSION_BUS_ADDRESS");
        info.Environment.Remove("XDG_RUNTIME_DIR");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return new DesktopProcess(Process.Start(info)!, dataDirectory, owns);
    }

    /// <summary>The next URL line (the first at start, another each time a later launch asks for the window).</summary>
    public Task<string> NextUrlAsync(TimeSpan timeout) => ReadAsync(urls, timeout, "a " + UrlPrefix.Trim() + " line");

    /// <summary>The next sign-in URL the app asked the system browser to open.</summary>
    public Task<string> NextSignInUrlAsync(TimeSpan timeout) => ReadAsync(signIns, timeout, "a " + SignInPrefix.Trim() + " line");

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public long ResidentBytes()
    {
        var status = File.ReadAllLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        // CONNTEXT_TEST_DESKTOP_LOGS=<dir> keeps each desktop's output (e.g. to find why a window's circuit ended).
        if (Environment.GetEnvironmentVariable("CONNTEXT_TEST_DESKTOP_LOGS") is { Length: > 0 } logs)
        {
            Directory.CreateDirectory(logs);
            await File.WriteAllTextAsync(Path.Combine(logs, $"desktop-{process.Id}.log"), Output);
        }

        process.Dispose();
        if (ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // The OS cleans the temp directory.
            }
        }
    }

    private async Task<string> ReadAsync(Channel<string> channel, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await channel.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The desktop printed no {what} within {timeout}. Exited: {process.HasExited}. Output:\n{Output}");
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            output.AppendLine(line);
        }

        if (line.StartsWith(UrlPrefix, StringComparison.Ordinal))
        {
            urls.Writer.TryWrite(line[UrlPrefix.Length..].Trim());
        }
        else if (line.StartsWith(SignInPrefix, StringComparison.Ordinal))
        {
            signIns.Writer.TryWrite(line[SignInPrefix.Length..].Trim());
        }
    }
}
