using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ConnText.LoadTest;

/// <summary>
/// REST scenarios at target rates (open loop, <see cref="OpenLoop"/>), each request made as the desktop app makes it:
///   send           POST /api/v1/conversations/{room}/messages (a member of the room, a new clientMessageId)
///   history        GET  /api/v1/conversations/{room}/messages?limit=50 (the newest page)
///   conversations  GET  /api/v1/conversations (the caller's list with last message and unread count)
///   login          the whole sign-in: authorize, the login form (one password verification), the token endpoint
/// The first three use OAuth access tokens of --auth-users users signed in through that same flow first (the app's
/// credential, validated against the database on every request), or the seed's personal access tokens with --auth pat.
/// </summary>
internal static class Rest
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var url = new Uri(options.String("url", "http://127.0.0.1:5180"));
        var scenario = options.String("scenario", "history");
        var rates = options.Doubles("rates", "50");
        var duration = TimeSpan.FromSeconds(options.Double("duration", 20));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 5));
        var serverPid = options.Int("server-pid", 0) is var pid and > 0 ? pid : (int?)null;
        var password = options.String("password", Seeder.Password);
        var seats = await Seat.LoadAsync(options.Required("tokens"), cancellationToken);
        var label = options.String("label", scenario);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        Func<long, CancellationToken, Task<Outcome>> request;
        if (scenario == "login")
        {
            request = (i, ct) => LoginAsync(url, seats[(int)(i % seats.Count)], password, ct);
        }
        else
        {
            var callers = await CallersAsync(options, url, seats, password, cancellationToken);
            // Every request completes inside OpenLoop.RunAsync below, before the client is disposed (CA2025 cannot see that).
#pragma warning disable CA2025
            request = scenario switch
            {
                "send" => (i, ct) => SendAsync(http, callers[(int)(i % callers.Count)], ct),
                "history" => (i, ct) => GetAsync(http, callers[(int)(i % callers.Count)], $"/api/v1/conversations/{callers[(int)(i % callers.Count)].Room}/messages?limit=50", ct),
                "conversations" => (i, ct) => GetAsync(http, callers[(int)(i % callers.Count)], "/api/v1/conversations", ct),
                _ => throw new ArgumentException("--scenario is send, history, conversations or login"),
            };
#pragma warning restore CA2025
        }

        if (warmup > TimeSpan.Zero)
        {
            await Console.Error.WriteLineAsync($"{label}: warm-up {warmup.TotalSeconds} s at {rates[0]}/s");
            await OpenLoop.RunAsync(rates[0], warmup, request, new OpenLoopCounters(), cancellationToken);
        }

        var steps = new List<RestStep>();
        foreach (var rate in rates)
        {
            await Console.Error.WriteLineAsync($"{label}: {rate}/s for {duration.TotalSeconds} s");
            steps.Add(await MeasureAsync(rate, duration, request, serverPid, cancellationToken));
        }

        var report = new RestReport(label, scenario, url.ToString(), Environment.ProcessorCount,
            (await File.ReadAllTextAsync("/proc/loadavg", cancellationToken)).Trim(), steps);
        Console.WriteLine(Table(report));
        var json = options.String("json", "");
        if (json.Length > 0)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, ReportJson.Options), cancellationToken);
        }

        return 0;
    }

    public static async Task<RestStep> MeasureAsync(
        double rate, TimeSpan duration, Func<long, CancellationToken, Task<Outcome>> request, int? serverPid, CancellationToken cancellationToken)
    {
        var counters = new OpenLoopCounters();
        var serverCpu = ProcessStats.CpuSeconds(serverPid);
        var ownCpu = ProcessStats.CpuSeconds(Environment.ProcessId);
        var clock = Stopwatch.StartNew();
        await OpenLoop.RunAsync(rate, duration, request, counters, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds; // until the last answer: CPU spent on late answers counts too
        var serverSeconds = ProcessStats.CpuSeconds(serverPid) - serverCpu;
        var ownSeconds = ProcessStats.CpuSeconds(Environment.ProcessId) - ownCpu;
        return new RestStep(rate, counters.Scheduled, counters.Ok, counters.Busy, counters.Failed,
            Math.Round(counters.Ok / duration.TotalSeconds, 1),
            counters.Latency.Percentile(0.50), counters.Latency.Percentile(0.99), counters.Latency.Percentile(0.999), counters.Latency.Max(),
            Math.Round(serverSeconds / seconds * 100), Math.Round(ownSeconds / seconds * 100),
            counters.Scheduled == 0 ? double.NaN : Math.Round(serverSeconds * 1000 / counters.Scheduled, 2), Math.Round(seconds, 1));
    }

    public static string Table(RestReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new StringBuilder();
        table.AppendLine(c, $"{report.Label} ({report.Scenario}), latency from each request's scheduled time (open loop)");
        table.AppendLine("| offered/s | ok/s | ok | busy (503) | failed | p50 ms | p99 ms | p99.9 ms | max ms | server CPU % | generator CPU % | server CPU ms per request |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in report.Steps)
        {
            table.AppendLine(c, $"| {s.OfferedPerSecond:0.#} | {s.OkPerSecond:0.#} | {s.Ok} | {s.Busy} | {s.Failed} | {s.P50Ms:0.0} | {s.P99Ms:0.0} | {s.P999Ms:0.0} | {s.MaxMs:0.0} | {s.ServerCpuPercent:0} | {s.GeneratorCpuPercent:0} | {s.ServerCpuMsPerRequest:0.00} |");
        }

        return table.ToString();
    }

    /// <summary>One sign-in of the seat's user (bench-NNNNN, the seed's password).</summary>
    public static async Task<Outcome> LoginAsync(Uri url, Seat seat, string password, CancellationToken cancellationToken) =>
        (await OAuthLogin.SignInAsync(url, UserName(seat), password, cancellationToken)).Outcome;

    public static string UserName(Seat seat) => string.Create(CultureInfo.InvariantCulture, $"bench-{seat.Index:D5}");

    private static async Task<IReadOnlyList<Caller>> CallersAsync(
        CommandLine options, Uri url, IReadOnlyList<Seat> seats, string password, CancellationToken cancellationToken)
    {
        var count = Math.Min(options.Int("auth-users", 20), seats.Count);
        // Spread over the rooms: seats are in rooms of consecutive lines.
        var chosen = Enumerable.Range(0, count).Select(i => seats[(int)((long)i * seats.Count / count)]).ToList();
        if (options.String("auth", "oauth") == "pat")
        {
            return [.. chosen.Select(s => new Caller(s.Token, s.RoomId))];
        }

        var callers = new List<Caller>();
        foreach (var seat in chosen)
        {
            var (outcome, token) = await OAuthLogin.SignInAsync(url, UserName(seat), password, cancellationToken);
            if (outcome != Outcome.Ok || token is null)
            {
                throw new InvalidOperationException($"could not sign {UserName(seat)} in ({outcome}); raise ConnText:RateLimits on the server under test");
            }

            callers.Add(new Caller(token, seat.RoomId));
        }

        await Console.Error.WriteLineAsync($"signed in {callers.Count} users through the OAuth code + PKCE flow");
        return callers;
    }

    private static async Task<Outcome> SendAsync(HttpClient http, Caller caller, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/conversations/{caller.Room}/messages")
        {
            Content = JsonContent.Create(new { clientMessageId = Guid.NewGuid(), text = "load test message " + new string('x', 82) }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        using var response = await http.SendAsync(message, cancellationToken);
        return OutcomeOf(response.StatusCode);
    }

    private static async Task<Outcome> GetAsync(HttpClient http, Caller caller, string path, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, path);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return OutcomeOf(response.StatusCode);
    }

    private static Outcome OutcomeOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.OK or HttpStatusCode.Created => Outcome.Ok,
        HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests => Outcome.Busy,
        _ => Outcome.Failed,
    };

    private sealed record Caller(string Token, Guid Room);
}

internal sealed record RestStep(
    double OfferedPerSecond, long Scheduled, long Ok, long Busy, long Failed, double OkPerSecond,
    double P50Ms, double P99Ms, double P999Ms, double MaxMs, double ServerCpuPercent, double GeneratorCpuPercent,
    double ServerCpuMsPerRequest, double Seconds);

internal sealed record RestReport(string Label, string Scenario, string Url, int Cores, string LoadAverageAtEnd, IReadOnlyList<RestStep> Steps);
