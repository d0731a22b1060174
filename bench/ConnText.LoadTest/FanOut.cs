using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ConnText.LoadTest;

/// <summary>
/// Room fan-out: every connection sits in one room of room-size connections; messages are sent at a given
/// total rate, each by a random member of the next room in turn, and every member of that room (the sender
/// too) should receive it. The text carries the send time (<see cref="Stopwatch"/>, CLOCK_MONOTONIC) and
/// the step it belongs to, so a receiver measures delivery latency without any shared state.
/// </summary>
internal static class FanOut
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var run = new FanOutRun(
            Target: options.String("target", "conntext"),
            Protocol: options.String("protocol", "json"),
            HubClient: options.String("hub-client", "signalr"),
            Urls: [.. options.Strings("urls", "http://127.0.0.1:5180").Select(u => new Uri(u))],
            Connections: options.Int("connections", 10_000),
            RoomSize: options.Int("room-size", 100),
            Rates: options.Doubles("rates", "100"),
            Duration: TimeSpan.FromSeconds(options.Double("duration", 20)),
            Warmup: TimeSpan.FromSeconds(options.Double("warmup", 20)),
            Payload: options.Int("payload", 100),
            MaxInflight: options.Int("max-inflight", 2000),
            ConnectConcurrency: options.Int("connect-concurrency", 200),
            ServerPid: options.Int("server-pid", 0) is var pid and > 0 ? pid : null,
            DatabasePid: options.Int("database-pid", 0) is var databasePid and > 0 ? databasePid : null,
            ServerMetrics: options.String("server-metrics", "") is { Length: > 0 } metrics ? new Uri(metrics) : null,
            Label: options.String("label", options.String("target", "conntext")),
            StormRate: options.Double("storm-rate", 0),
            StormPassword: options.String("password", Seeder.Password),
            WarmStorm: bool.Parse(options.String("storm-warmup", "true")),
            StormRounds: options.Int("storm-rounds", 1),
            StormProcess: options.String("storm-process", "same") switch
            {
                "separate" => true,
                "same" => false,
                _ => throw new ArgumentException("--storm-process is separate or same"),
            },
            Tokens: options.Required("tokens"));
        if (run.StormRounds < 1)
        {
            throw new ArgumentException("--storm-rounds must be at least 1");
        }

        var seats = (await Seat.LoadAsync(run.Tokens, cancellationToken)).Take(run.Connections).ToList();
        if (seats.Count < run.Connections || run.Connections % run.RoomSize != 0)
        {
            throw new ArgumentException($"need {run.Connections} seats (a multiple of --room-size), the tokens file has {seats.Count}");
        }

        await using var session = new FanOutSession(run, seats);
        await session.ConnectAsync(cancellationToken);
        var results = await session.RunStepsAsync(cancellationToken);

        var report = new FanOutReport(run.Label, run.Target, run.Protocol, run.Connections, session.Connected, run.RoomSize,
            run.Payload, Environment.ProcessorCount, (await File.ReadAllTextAsync("/proc/loadavg", cancellationToken)).Trim(), session.ConnectSeconds,
            session.ServerRssAfterConnectMiB, results, session.StormComparisons());
        Console.WriteLine(Table(report));
        var json = options.String("json", "");
        if (json.Length > 0)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, ReportJson.Options), cancellationToken);
        }

        return 0;
    }

    public static string Table(FanOutReport report)
    {
        var table = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        table.AppendLine(c, $"{report.Label}: {report.Connected}/{report.Connections} connections in rooms of {report.RoomSize}, {report.Payload}-char messages, {report.Protocol}");
        var storm = report.Steps.Any(s => s.Storm is not null);
        var database = report.Steps.Any(s => s.DatabaseCpuPercent is not null);
        var gc = report.Steps.Any(s => s.ServerGc is not null);
        table.AppendLine("| offered msg/s | sent msg/s | delivered/s | reach | p50 ms | p99 ms | p99.9 ms | max ms | send errors | server CPU % | generator CPU % | server CPU µs per delivery | server RSS MiB |"
            + (database ? " PostgreSQL CPU % |" : "")
            + (gc ? " server GCs/s | server GC pause ms/s | server ms per GC | server allocated MB/s |" : "")
            + " generator GC pause ms/s |"
            + (storm ? " login storm /s | logins ok | logins busy (503) | logins failed | login p50 ms | login p99 ms |" : ""));
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (database ? "---:|" : "") + (gc ? "---:|---:|---:|---:|" : "") + "---:|" + (storm ? "---:|---:|---:|---:|---:|---:|" : ""));
        foreach (var s in report.Steps)
        {
            table.Append(c, $"| {s.OfferedPerSecond:0} | {s.SentPerSecond:0} | {s.DeliveredPerSecond:0} | {s.Reach:0.0000} | {s.P50Ms:0.0} | {s.P99Ms:0.0} | {s.P999Ms:0.0} | {s.MaxMs:0.0} | {s.SendErrors + s.Skipped} | {s.ServerCpuPercent:0} | {s.GeneratorCpuPercent:0} | {CpuPerDelivery(s)} | {s.ServerRssMiB:0} |");
            if (database)
            {
                table.Append(c, $" {s.DatabaseCpuPercent:0} |");
            }

            if (gc)
            {
                table.Append(s.ServerGc is { } g
                    ? string.Create(c, $" {g.CollectionsPerSecond:0.00} | {g.PauseMsPerSecond:0.0} | {g.PauseMsPerCollection:0.#} | {g.AllocatedMBPerSecond:0.0} |")
                    : " | | | |");
            }

            table.Append(c, $" {s.GeneratorGc?.PauseMsPerSecond:0.0} |");

            if (storm)
            {
                table.Append(s.Storm is { } l
                    ? string.Create(c, $" {l.OfferedPerSecond:0.#} | {l.Ok} | {l.Busy} | {l.Failed} | {l.P50Ms:0.0} | {l.P99Ms:0.0} |")
                    : " – | | | | | |");
            }

            table.AppendLine();
        }

        // The login-storm target (issue 10): a storm raises chat delivery p99 by at most 20 %.
        if (storm)
        {
            var quiet = report.Steps.Where(s => s.Storm is null).ToList();
            var stormy = report.Steps.Where(s => s.Storm is not null).ToList();
            var postgres = database
                ? string.Create(c, $", PostgreSQL {quiet.Average(s => s.DatabaseCpuPercent ?? 0):0} / {stormy.Average(s => s.DatabaseCpuPercent ?? 0):0} %")
                : "";
            table.AppendLine(c, $"- CPU per step without / with the storm, mean: server {quiet.Average(s => s.ServerCpuPercent):0} / {stormy.Average(s => s.ServerCpuPercent):0} %, generator {quiet.Average(s => s.GeneratorCpuPercent):0} / {stormy.Average(s => s.GeneratorCpuPercent):0} %{postgres}");
            var serverGc = gc
                ? string.Create(c, $"server {quiet.Average(s => s.ServerGc?.PauseMsPerSecond ?? 0):0.0} / {stormy.Average(s => s.ServerGc?.PauseMsPerSecond ?? 0):0.0} ms per s, ")
                : "";
            table.AppendLine(c, $"- GC pause per step without / with the storm, mean: {serverGc}generator {quiet.Average(s => s.GeneratorGc?.PauseMsPerSecond ?? 0):0.0} / {stormy.Average(s => s.GeneratorGc?.PauseMsPerSecond ?? 0):0.0} ms per s");
        }

        foreach (var s in report.StormComparisons ?? [])
        {
            table.AppendLine(c, $"- at {s.OfferedPerSecond:0} msg/s, {s.Rounds} round(s) of a step without and a step with {s.StormPerSecond:0.#} logins/s: delivery p99 of all steps without {s.QuietP99Ms:0.0} ms, with {s.StormP99Ms:0.0} ms: **×{s.Ratio:0.00}** (target ≤ ×1.20)");
            if (s.Rounds > 1)
            {
                table.AppendLine(c, $"  - each round: {string.Join(", ", s.RoundRatios.Select(r => string.Create(c, $"×{r:0.00}")))}; p99 of the steps without a storm alone ranged {s.QuietP99MinMs:0.0}–{s.QuietP99MaxMs:0.0} ms (×{s.QuietP99MaxMs / s.QuietP99MinMs:0.00}, the noise between two steps that should be alike)");
            }
        }

        return table.ToString();
    }

    /// <summary>
    /// Server CPU time over the send window ÷ deliveries: comparable across runs on a shared machine, where
    /// the CPU a process gets varies. Only meaningful for steps that kept up (reach 1, nothing left to drain).
    /// </summary>
    private static string CpuPerDelivery(StepResult step) =>
        step.Delivered == 0 || step.Reach < 0.999
            ? "–"
            : (step.ServerCpuPercent / 100 * step.Seconds / step.Delivered * 1e6).ToString("0", CultureInfo.InvariantCulture);
}

internal sealed record FanOutRun(
    string Target, string Protocol, string HubClient, IReadOnlyList<Uri> Urls, int Connections, int RoomSize, IReadOnlyList<double> Rates,
    TimeSpan Duration, TimeSpan Warmup, int Payload, int MaxInflight, int ConnectConcurrency, int? ServerPid, int? DatabasePid,
    Uri? ServerMetrics, string Label, double StormRate, string StormPassword, bool WarmStorm, int StormRounds, bool StormProcess, string Tokens)
{
    /// <summary>
    /// The steps: each rate once, or (with a login storm) <see cref="StormRounds"/> times a step without and a step
    /// with the storm, alternating, so that a drift of the machine's speed falls on both sides alike.
    /// </summary>
    public IReadOnlyList<(double Rate, bool Storm)> Plan =>
        [.. Rates.SelectMany(r => StormRate > 0
            ? Enumerable.Range(0, StormRounds).SelectMany(_ => new[] { (r, false), (r, true) })
            : [(r, false)])];
}

internal sealed record StepResult(
    double OfferedPerSecond, double SentPerSecond, long Sent, long Skipped, long SendErrors, long Expected, long Delivered,
    double DeliveredPerSecond, double Reach, double P50Ms, double P99Ms, double P999Ms, double MaxMs,
    double ServerCpuPercent, double GeneratorCpuPercent, double ServerRssMiB, int ConnectedAtEnd, double Seconds,
    StormResult? Storm = null, double? DatabaseCpuPercent = null, GcRates? ServerGc = null, GcRates? GeneratorGc = null);

/// <summary>
/// Chat delivery at one rate without and with a login storm: p99 over all deliveries of the steps of each kind (their
/// histograms pooled), each round's ratio, and the spread of the quiet steps' own p99.
/// </summary>
internal sealed record StormComparison(
    double OfferedPerSecond, double StormPerSecond, int Rounds, double QuietP99Ms, double StormP99Ms, double Ratio,
    IReadOnlyList<double> RoundRatios, double QuietP99MinMs, double QuietP99MaxMs);

/// <summary>The sign-ins made during a step (the whole OAuth flow each; open loop from their scheduled time).</summary>
internal sealed record StormResult(double OfferedPerSecond, long Ok, long Busy, long Failed, double P50Ms, double P99Ms);

internal sealed record FanOutReport(
    string Label, string Target, string Protocol, int Connections, int Connected, int RoomSize, int Payload,
    int Cores, string LoadAverageAtEnd, double ConnectSeconds, double ServerRssAfterConnectMiB, IReadOnlyList<StepResult> Steps,
    IReadOnlyList<StormComparison>? StormComparisons);

internal static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>One object per line, for the login storm's process.</summary>
    public static readonly JsonSerializerOptions Line = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>Counters of one step; step 0 is the warm-up and is not reported.</summary>
internal sealed class StepCounters
{
    public long Sent;
    public long Skipped;
    public long Errors;
    public long Delivered;
    public LatencyHistogram Latency { get; } = new();
}

internal sealed class FanOutSession(FanOutRun run, IReadOnlyList<Seat> seats) : IAsyncDisposable
{
    private const int StepDigits = 3;
    private readonly ILoadClient[] clients = new ILoadClient[seats.Count];
    private readonly StepCounters[] steps = [.. Enumerable.Range(0, run.Plan.Count + 1).Select(_ => new StepCounters())];
    private readonly string padding = new('x', Math.Max(0, run.Payload));
    private long inflight;
    private long closed;
    private long unparsed;

    public int Connected => clients.Count(c => c?.IsConnected == true);

    public double ConnectSeconds { get; private set; }

    public double ServerRssAfterConnectMiB { get; private set; }

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        long done = 0, failed = 0;
        using var progress = Progress(() => $"connecting: {Interlocked.Read(ref done)}/{clients.Length}, failed {Interlocked.Read(ref failed)}", cancellationToken);
        await Parallel.ForEachAsync(Enumerable.Range(0, seats.Count),
            new ParallelOptions { MaxDegreeOfParallelism = run.ConnectConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var url = run.Urls[i % run.Urls.Count];
                for (var attempt = 1; ; attempt++)
                {
                    var client = LoadClients.Create(run.Target, run.Protocol, run.HubClient, url, seats[i], OnText, () => Interlocked.Increment(ref closed));
                    try
                    {
                        await client.ConnectAsync(ct);
                        clients[i] = client;
                        break;
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        await client.DisposeAsync();
                        if (attempt == 5)
                        {
                            Interlocked.Increment(ref failed);
                            await Console.Error.WriteLineAsync($"connection {i} failed: {ex.GetType().Name}: {ex.Message} {ex.InnerException?.Message}");
                            return;
                        }

                        await Task.Delay(1000 * attempt, ct);
                    }
                }

                Interlocked.Increment(ref done);
            });
        ConnectSeconds = Math.Round(started.Elapsed.TotalSeconds, 1);
        Interlocked.Exchange(ref closed, 0); // failed attempts closed too; count only drops from here on
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // let the server settle before measuring memory
        ServerRssAfterConnectMiB = Math.Round(ProcessStats.RssMiB(run.ServerPid));
        await Console.Error.WriteLineAsync($"connected {Connected}/{clients.Length} in {ConnectSeconds} s; server RSS {ServerRssAfterConnectMiB} MiB");
    }

    public async Task<IReadOnlyList<StepResult>> RunStepsAsync(CancellationToken cancellationToken)
    {
        var rooms = Enumerable.Range(0, seats.Count).Where(i => clients[i] is not null)
            .GroupBy(i => seats[i].RoomId).Select(g => (Room: g.Key, Members: g.ToArray())).ToArray();
        await using var logins = run.StormRate > 0 ? LoginStorms.Create(run.StormProcess, run.Urls[0], run.Tokens, run.StormPassword, seats) : null;
        using var metrics = run.ServerMetrics is { } metricsUrl ? new ServerMetrics(metricsUrl) : null;
        if (metrics is not null && await metrics.ReadAsync(cancellationToken) is null)
        {
            await Console.Error.WriteLineAsync($"{run.ServerMetrics} gave no garbage-collection metrics: the GC columns stay empty");
        }

        if (run.Warmup > TimeSpan.Zero)
        {
            // With a storm planned, the warm-up signs in at the storm's rate too: the measured steps then compare a
            // warm server with and without sign-ins, not the JIT compiling the whole sign-in path on the first ones
            // (seen as one stall of a few hundred milliseconds at the start of the storm step). That cold start is
            // real after a restart; the without-warm-up figure is kept in docs/performance.md.
            await Console.Error.WriteLineAsync($"warm-up: {run.Warmup.TotalSeconds} s at {run.Rates[0]} msg/s{(run.StormRate > 0 && run.WarmStorm ? $", sign-ins at {run.StormRate}/s" : "")}");
            var warmLogins = logins is not null && run.WarmStorm
                ? logins.RunAsync(run.StormRate, run.Warmup, cancellationToken)
                : Task.CompletedTask;
            await SendAsync(0, run.Rates[0], run.Warmup, rooms, cancellationToken);
            await warmLogins;
            await DrainAsync(0, cancellationToken);
        }

        var results = new List<StepResult>();
        var plan = run.Plan;
        for (var step = 1; step <= plan.Count; step++)
        {
            var (rate, storm) = plan[step - 1];
            await Console.Error.WriteLineAsync($"step {step}/{plan.Count}: {rate} msg/s for {run.Duration.TotalSeconds} s{(storm ? $", login storm {run.StormRate}/s" : "")}");
            var serverCpu = ProcessStats.CpuSeconds(run.ServerPid);
            var databaseCpu = ProcessStats.TreeCpuSeconds(run.DatabasePid);
            var ownCpu = GeneratorCpuSeconds(logins);
            var serverGc = metrics is null ? null : await metrics.ReadAsync(cancellationToken);
            var ownGc = GcTotals.Own();
            var clock = Stopwatch.StartNew();
            var stormStep = storm ? logins!.RunAsync(run.StormRate, run.Duration, cancellationToken) : null;
            await SendAsync(step, rate, run.Duration, rooms, cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            var serverCpuPercent = (ProcessStats.CpuSeconds(run.ServerPid) - serverCpu) / seconds * 100;
            var ownCpuPercent = (GeneratorCpuSeconds(logins) - ownCpu) / seconds * 100;
            var databaseCpuPercent = (ProcessStats.TreeCpuSeconds(run.DatabasePid) - databaseCpu) / seconds * 100;
            var ownGcRates = GcTotals.Between(ownGc, GcTotals.Own(), seconds);
            var serverGcRates = metrics is null ? null : GcTotals.Between(serverGc, await metrics.ReadAsync(cancellationToken), seconds);
            await DrainAsync(step, cancellationToken);
            var stormResult = stormStep is null ? null : await stormStep;

            var counters = steps[step];
            var expected = counters.Sent * run.RoomSize;
            var delivered = Interlocked.Read(ref counters.Delivered);
            results.Add(new StepResult(
                rate, Math.Round(counters.Sent / seconds, 1), counters.Sent, counters.Skipped, Interlocked.Read(ref counters.Errors),
                expected, delivered, Math.Round(delivered / seconds), expected == 0 ? 0 : Math.Round((double)delivered / expected, 5),
                counters.Latency.Percentile(0.50), counters.Latency.Percentile(0.99), counters.Latency.Percentile(0.999), counters.Latency.Max(),
                Math.Round(serverCpuPercent), Math.Round(ownCpuPercent), Math.Round(ProcessStats.RssMiB(run.ServerPid)), Connected,
                Math.Round(seconds, 2), stormResult, double.IsNaN(databaseCpuPercent) ? null : Math.Round(databaseCpuPercent),
                serverGcRates, ownGcRates));
        }

        return results;
    }

    /// <summary>This process's CPU seconds and those of the login storm's process, if it has one.</summary>
    private static double GeneratorCpuSeconds(ILoginStorm? logins) =>
        ProcessStats.CpuSeconds(Environment.ProcessId) + (logins?.CpuSeconds() is { } child && !double.IsNaN(child) ? child : 0);

    /// <summary>Per rate, the steps without and with a login storm compared (none when no storm ran).</summary>
    public IReadOnlyList<StormComparison> StormComparisons()
    {
        if (run.StormRate <= 0)
        {
            return [];
        }

        var plan = run.Plan;
        var planned = Enumerable.Range(1, plan.Count).Select(step => (Step: step, plan[step - 1].Rate, plan[step - 1].Storm)).ToList();
        return [.. planned.GroupBy(s => s.Rate).Select(g =>
        {
            var quiet = g.Where(s => !s.Storm).Select(s => steps[s.Step].Latency).ToList();
            var stormy = g.Where(s => s.Storm).Select(s => steps[s.Step].Latency).ToList();
            var quietP99 = LatencyHistogram.Merge(quiet).Percentile(0.99);
            var stormP99 = LatencyHistogram.Merge(stormy).Percentile(0.99);
            var each = quiet.Select(h => h.Percentile(0.99)).ToList();
            return new StormComparison(g.Key, run.StormRate, quiet.Count, quietP99, stormP99, Math.Round(stormP99 / quietP99, 3),
                [.. quiet.Zip(stormy, (q, s) => Math.Round(s.Percentile(0.99) / q.Percentile(0.99), 3))], each.Min(), each.Max());
        })];
    }

    private async Task SendAsync(int step, double rate, TimeSpan duration, (Guid Room, int[] Members)[] rooms, CancellationToken cancellationToken)
    {
        var counters = steps[step];
        var clock = Stopwatch.StartNew();
        long issued = 0, lastDelivered = 0, lastSent = 0;
        using var progress = Progress(() =>
        {
            var delivered = Interlocked.Read(ref counters.Delivered);
            var sent = Interlocked.Read(ref counters.Sent);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"step {step} {clock.Elapsed.TotalSeconds:0}s: sent {sent - lastSent}/s delivered {delivered - lastDelivered}/s inflight {Interlocked.Read(ref inflight)} errors {Interlocked.Read(ref counters.Errors)} skipped {counters.Skipped} closed {Interlocked.Read(ref closed)}");
            (lastDelivered, lastSent) = (delivered, sent);
            return line;
        }, cancellationToken);
        while (clock.Elapsed < duration)
        {
            var due = (long)(rate * clock.Elapsed.TotalSeconds);
            for (; issued < due; issued++)
            {
                if (Interlocked.Read(ref inflight) >= run.MaxInflight)
                {
                    counters.Skipped++; // the server is not keeping up: the step's send rate falls short
                    continue;
                }

                var (room, members) = rooms[issued % rooms.Length];
                var sender = clients[members[Random.Shared.Next(members.Length)]];
                Interlocked.Increment(ref counters.Sent);
                _ = SendOneAsync(sender, room, step, counters, cancellationToken);
            }

            await Task.Delay(1, cancellationToken);
        }
    }

    private async Task SendOneAsync(ILoadClient sender, Guid room, int step, StepCounters counters, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref inflight);
        try
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"S{step:D3}:{Stopwatch.GetTimestamp():D19}:");
            text += padding[..Math.Max(0, run.Payload - text.Length)];
            await sender.SendAsync(room, text, cancellationToken);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref counters.Errors);
        }
        finally
        {
            Interlocked.Decrement(ref inflight);
        }
    }

    /// <summary>Waits until every send completed and every expected delivery arrived, or nothing arrived for 3 s (at most 30 s).</summary>
    private async Task DrainAsync(int step, CancellationToken cancellationToken)
    {
        var counters = steps[step];
        var clock = Stopwatch.StartNew();
        var idle = Stopwatch.StartNew();
        var last = -1L;
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var delivered = Interlocked.Read(ref counters.Delivered);
            if (Interlocked.Read(ref inflight) == 0 && delivered >= Interlocked.Read(ref counters.Sent) * run.RoomSize)
            {
                return;
            }

            if (delivered != last)
            {
                (last, idle) = (delivered, Stopwatch.StartNew());
            }
            else if (idle.Elapsed > TimeSpan.FromSeconds(3) && Interlocked.Read(ref inflight) == 0)
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private void OnText(string? text)
    {
        var now = Stopwatch.GetTimestamp();
        // "S{step:D3}:{timestamp:D19}:xxxx…"
        if (text is null || text.Length < 5 + StepDigits + 19 || text[0] != 'S'
            || !int.TryParse(text.AsSpan(1, StepDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            || step >= steps.Length
            || !long.TryParse(text.AsSpan(2 + StepDigits, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var sentAt))
        {
            Interlocked.Increment(ref unparsed);
            return;
        }

        var counters = steps[step];
        Interlocked.Increment(ref counters.Delivered);
        counters.Latency.Record(now - sentAt);
    }

    private static Timer Progress(Func<string> line, CancellationToken cancellationToken) =>
        new(_ =>
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine(line());
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Read(ref unparsed) > 0)
        {
            await Console.Error.WriteLineAsync($"{unparsed} received texts were not from this run");
        }

        await Parallel.ForEachAsync(clients.Where(c => c is not null), new ParallelOptions { MaxDegreeOfParallelism = 200 },
            async (client, _) => await client.DisposeAsync());
    }
}
