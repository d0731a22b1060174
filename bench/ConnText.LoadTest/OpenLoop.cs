using System.Diagnostics;

namespace ConnText.LoadTest;

/// <summary>
/// Open-loop load at a fixed rate: request i is due at start + i / rate whatever happened to earlier ones, and its
/// latency is measured from that due time, not from when it was actually sent. A stalled server (or a stalled
/// generator) therefore shows up as latency of every request that should have been sent meanwhile: no coordinated
/// omission. Nothing caps the requests in flight; a server that cannot keep up shows unbounded latency, as its users
/// would see it.
/// </summary>
internal sealed class OpenLoopCounters
{
    public long Scheduled;
    public long Ok;
    public long Busy;
    public long Failed;
    public LatencyHistogram Latency { get; } = new();
    public LatencyHistogram OkLatency { get; } = new();
}

internal static class OpenLoop
{
    public static async Task RunAsync(
        double rate, TimeSpan duration, Func<long, CancellationToken, Task<Outcome>> request, OpenLoopCounters counters,
        CancellationToken cancellationToken)
    {
        var total = (long)Math.Round(rate * duration.TotalSeconds);
        var pending = new List<Task>((int)Math.Min(total, 1_000_000));
        var ticksPerRequest = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        for (long i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = start + (long)(i * ticksPerRequest);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }

            var index = i;
            Interlocked.Increment(ref counters.Scheduled);
            pending.Add(Task.Run(async () =>
            {
                Outcome outcome;
                try
                {
                    outcome = await request(index, cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    outcome = Outcome.Failed;
                }

                var elapsed = Stopwatch.GetTimestamp() - due;
                counters.Latency.Record(elapsed);
                switch (outcome)
                {
                    case Outcome.Ok:
                        Interlocked.Increment(ref counters.Ok);
                        counters.OkLatency.Record(elapsed);
                        break;
                    case Outcome.Busy:
                        Interlocked.Increment(ref counters.Busy);
                        break;
                    default:
                        Interlocked.Increment(ref counters.Failed);
                        break;
                }
            }, cancellationToken));
        }

        await Task.WhenAll(pending);
    }
}
