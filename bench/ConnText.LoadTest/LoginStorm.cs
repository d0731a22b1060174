using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ConnText.LoadTest;

/// <summary>
/// The sign-ins of a login storm (the whole OAuth code + PKCE flow, one fresh cookie jar each), at a fixed rate, open
/// loop: inside the fan-out generator (the default), or from a process of their own, as they would come from other
/// people's machines (<c>--storm-process separate</c>; its CPU is counted as the generator's). Separate was tried in
/// case the sign-ins' allocations and thread-pool work inside the generator delayed the chat receivers whose latency
/// is measured; it raised the storm's effect instead (docs/performance.md, "Login storm").
/// </summary>
internal interface ILoginStorm : IAsyncDisposable
{
    /// <summary>CPU seconds used so far by whatever sends the sign-ins outside this process (NaN when none).</summary>
    double CpuSeconds();

    Task<StormResult> RunAsync(double rate, TimeSpan duration, CancellationToken cancellationToken);
}

internal static class LoginStorms
{
    public static ILoginStorm Create(bool separateProcess, Uri url, string tokens, string password, IReadOnlyList<Seat> seats) =>
        separateProcess ? LoginStormProcess.Start(url, tokens, password) : new InProcessLoginStorm(url, password, seats);

    /// <summary>
    /// The child's command: reads "rate seconds" lines from standard input, runs each storm and answers with one line of
    /// JSON (<see cref="StormResult"/>); ends when its input ends.
    /// </summary>
    public static async Task<int> ServeAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var url = new Uri(options.String("url", "http://127.0.0.1:5180"));
        var seats = await Seat.LoadAsync(options.Required("tokens"), cancellationToken);
        await using var storm = new InProcessLoginStorm(url, options.String("password", Seeder.Password), seats);
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw new ArgumentException($"expected \"rate seconds\", got \"{line}\"");
            }

            var result = await storm.RunAsync(double.Parse(parts[0], CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(double.Parse(parts[1], CultureInfo.InvariantCulture)), cancellationToken);
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, ReportJson.Line));
            await Console.Out.FlushAsync(cancellationToken);
        }

        return 0;
    }
}

internal sealed class InProcessLoginStorm(Uri url, string password, IReadOnlyList<Seat> seats) : ILoginStorm
{
    public double CpuSeconds() => double.NaN;

    public async Task<StormResult> RunAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var counters = new OpenLoopCounters();
        await OpenLoop.RunAsync(rate, duration,
            (i, ct) => Rest.LoginAsync(url, seats[Random.Shared.Next(seats.Count)], password, ct), counters, cancellationToken);
        return new StormResult(rate, counters.Ok, counters.Busy, counters.Failed,
            counters.OkLatency.Percentile(0.50), counters.OkLatency.Percentile(0.99));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class LoginStormProcess : ILoginStorm
{
    private readonly Process process;

    private LoginStormProcess(Process process) => this.process = process;

    public static LoginStormProcess Start(Uri url, string tokens, string password)
    {
        // This same program again: "dotnet ConnText.LoadTest.dll" or its apphost.
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LoginStorms).Assembly.Location);
        }

        foreach (var argument in new[] { "logins", "--url", url.ToString(), "--tokens", tokens, "--password", password })
        {
            start.ArgumentList.Add(argument);
        }

        return new LoginStormProcess(Process.Start(start) ?? throw new InvalidOperationException("the login storm's process did not start"));
    }

    public double CpuSeconds() => ProcessStats.CpuSeconds(process.Id);

    public async Task<StormResult> RunAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        await process.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{rate} {duration.TotalSeconds}"));
        await process.StandardInput.FlushAsync(cancellationToken);
        var line = await process.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"the login storm's process ended (exit code {(process.HasExited ? process.ExitCode : -1)})");
        return JsonSerializer.Deserialize<StormResult>(line, ReportJson.Line)!;
    }

    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
        }

        process.Dispose();
    }
}
