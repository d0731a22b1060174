using System.Diagnostics;
using System.Globalization;

namespace ConnText.LoadTest;

/// <summary>
/// Idle connections: opens hub connections for a slice of the tokens file and keeps them open, so the
/// script can read the server's memory per connection. One process holds at most ~19,000 sockets (20,000
/// open files per process), so larger counts use several processes with different --offset.
/// </summary>
internal static class Idle
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var urls = options.Strings("urls", "http://127.0.0.1:5180").Select(u => new Uri(u)).ToArray();
        var offset = options.Int("offset", 0);
        var count = options.Int("count", 1000);
        var hold = TimeSpan.FromSeconds(options.Double("hold", 600));
        var readyFile = options.String("ready-file", "");
        var concurrency = options.Int("connect-concurrency", 200);
        var seats = (await Seat.LoadAsync(options.Required("tokens"), cancellationToken)).Skip(offset).Take(count).ToArray();
        var clients = new ILoadClient?[seats.Length];
        long failed = 0, closed = 0;
        var clock = Stopwatch.StartNew();
        using (new Timer(_ => Console.Error.WriteLine(
                   $"idle[{offset}]: {clients.Count(c => c is not null)}/{seats.Length} open, {Interlocked.Read(ref failed)} failed"),
                   null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, seats.Length),
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    for (var attempt = 1; ; attempt++)
                    {
                        var client = LoadClients.Create("conntext", "json", "signalr", urls[(offset + i) % urls.Length], seats[i], _ => { },
                            () => Interlocked.Increment(ref closed));
                        try
                        {
                            await client.ConnectAsync(ct);
                            clients[i] = client;
                            return;
                        }
                        catch (Exception ex) when (!ct.IsCancellationRequested)
                        {
                            await client.DisposeAsync();
                            if (attempt == 5)
                            {
                                Interlocked.Increment(ref failed);
                                await Console.Error.WriteLineAsync($"connection {offset + i} failed: {ex.GetType().Name}: {ex.Message} {ex.InnerException?.Message}");
                                return;
                            }

                            await Task.Delay(1000 * attempt, ct);
                        }
                    }
                });
        }

        var open = clients.Count(c => c?.IsConnected == true);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{open} {Interlocked.Read(ref failed)} {clock.Elapsed.TotalSeconds:0.0} {ProcessStats.RssMiB(Environment.ProcessId):0}");
        Console.WriteLine($"open={open} failed={failed} seconds={clock.Elapsed.TotalSeconds:0.0}");
        if (readyFile.Length > 0)
        {
            // "open failed seconds generator-rss-MiB"
            await File.WriteAllTextAsync(readyFile, line + "\n", cancellationToken);
        }

        try
        {
            await Task.Delay(hold, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        var stillOpen = clients.Count(c => c?.IsConnected == true);
        Console.WriteLine($"still open at the end: {stillOpen} (closed meanwhile: {Interlocked.Read(ref closed)})");
        await Parallel.ForEachAsync(clients.Where(c => c is not null), new ParallelOptions { MaxDegreeOfParallelism = 200 },
            async (client, _) => await client!.DisposeAsync());
        return 0;
    }
}
