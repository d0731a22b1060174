using System.Diagnostics;
using System.Text;

namespace ConnText.Desktop.Tests.Infrastructure;

/// <summary>
/// A desktop session of the test's own: an X server (Xvfb) on a free display, a D-Bus session bus, a notification
/// daemon (dunst) on both, and <c>dbus-monitor</c> recording every Notify call on the bus. Programs started with
/// <see cref="Environment"/> see this session instead of any real one.
/// </summary>
public sealed class DesktopSession : IAsyncDisposable
{
    private readonly List<Process> processes = [];
    private readonly StringBuilder monitor = new();
    private readonly Lock gate = new();
    private readonly string directory;

    private DesktopSession(string directory)
    {
        this.directory = directory;
    }

    public string Display { get; private set; } = "";

    public string BusAddress { get; private set; } = "";

    /// <summary>The variables that put a program into this session.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["DISPLAY"] = Display,
        ["DBUS_SESSION_BUS_ADDRESS"] = BusAddress,
    };

    /// <summary>What dbus-monitor has seen so far.</summary>
    public string Monitored
    {
        get
        {
            lock (gate)
            {
                return monitor.ToString();
            }
        }
    }

    public static async Task<DesktopSession> StartAsync()
    {
        var session = new DesktopSession(Directory.CreateTempSubdirectory("conntext-session-").FullName);
        try
        {
            await session.StartXvfbAsync();
            await session.StartBusAsync();
            session.StartMonitor();
            await session.StartDunstAsync();
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until a Notify call whose arguments contain every one of <paramref name="texts"/> was seen on the bus.</summary>
    public async Task<string> WaitForNotificationAsync(TimeSpan timeout, params string[] texts)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var call = NotifyCalls().FirstOrDefault(c => texts.All(t => c.Contains(t, StringComparison.Ordinal)));
            if (call is not null)
            {
                return call;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"No notification with {string.Join(", ", texts)} within {timeout}. Seen on the bus:\n{Monitored}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Each Notify method call seen, as dbus-monitor printed it (header line and arguments).</summary>
    public IReadOnlyList<string> NotifyCalls() =>
        [.. Monitored.Split("\nmethod call ", StringSplitOptions.RemoveEmptyEntries).Where(c => c.Contains("member=Notify", StringComparison.Ordinal))];

    /// <summary>What a user's click does: dunst performs the default action of the notification on top.</summary>
    public async Task ClickNotificationAsync()
    {
        var (code, output) = await RunAsync("dunstctl", "action", "0");
        if (code != 0)
        {
            throw new InvalidOperationException("dunstctl action failed: " + output);
        }
    }

    /// <summary>How many notifications dunst shows now.</summary>
    public async Task<int> DisplayedAsync()
    {
        var (_, output) = await RunAsync("dunstctl", "count", "displayed");
        return int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
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
                // Never started or already reaped.
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartXvfbAsync()
    {
        // A display number nobody uses: no lock file, no socket.
        var number = Enumerable.Range(System.Security.Cryptography.RandomNumberGenerator.GetInt32(150, 450), 300).First(n => !File.Exists($"/tmp/.X{n}-lock") && !File.Exists($"/tmp/.X11-unix/X{n}"));
        Display = ":" + number;
        Launch("Xvfb", null, Display, "-screen", "0", "1280x800x24", "-nolisten", "tcp");
        await WaitUntilAsync(() => File.Exists($"/tmp/.X11-unix/X{number}"), "Xvfb to listen on " + Display);
    }

    private async Task StartBusAsync()
    {
        var address = "unix:path=" + Path.Combine(directory, "bus");
        Launch("dbus-daemon", null, "--session", "--nofork", "--nopidfile", "--address=" + address);
        BusAddress = address;
        await WaitUntilAsync(() => File.Exists(Path.Combine(directory, "bus")), "the session bus");
    }

    private void StartMonitor()
    {
        var process = Launch("dbus-monitor", null, "--address", BusAddress,
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'");
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    monitor.Append('\n').Append(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
    }

    private async Task StartDunstAsync()
    {
        Launch("dunst", Environment);
        await WaitUntilAsync(async () =>
        {
            var (_, output) = await RunAsync("dbus-send", "--bus=" + BusAddress, "--print-reply", "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications");
            return output.Contains("boolean true", StringComparison.Ordinal);
        }, "dunst to own org.freedesktop.Notifications");
    }

    private Process Launch(string program, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start " + program);
        processes.Add(process);
        if (program != "dbus-monitor")
        {
            process.OutputDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
        }

        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<(int Code, string Output)> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in Environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(100);
        }
    }
}
