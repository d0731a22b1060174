using System.Diagnostics;
using System.Globalization;

namespace ConnText.LoadTest;

/// <summary>
/// Delivery latencies in 0.1 ms buckets up to 60 s (anything slower lands in the last bucket). Recorded from
/// many receive callbacks at once without a lock.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double BucketMs = 0.1;
    private readonly long[] buckets = new long[600_001];
    private long count;

    public long Count => Interlocked.Read(ref count);

    public void Record(long stopwatchTicks)
    {
        var ms = stopwatchTicks * 1000.0 / Stopwatch.Frequency;
        var bucket = (int)Math.Clamp(ms / BucketMs, 0, buckets.Length - 1);
        Interlocked.Increment(ref buckets[bucket]);
        Interlocked.Increment(ref count);
    }

    /// <summary>The latency (ms, upper edge of its bucket) below which <paramref name="fraction"/> of the samples lie.</summary>
    public double Percentile(double fraction)
    {
        var total = Count;
        if (total == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += Interlocked.Read(ref buckets[i]);
            if (seen >= rank)
            {
                return Math.Round((i + 1) * BucketMs, 1);
            }
        }

        return buckets.Length * BucketMs;
    }

    /// <summary>One histogram holding the samples of all <paramref name="histograms"/> (read once they are complete).</summary>
    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> histograms)
    {
        var merged = new LatencyHistogram();
        foreach (var h in histograms)
        {
            for (var i = 0; i < merged.buckets.Length; i++)
            {
                merged.buckets[i] += Interlocked.Read(ref h.buckets[i]);
            }

            merged.count += h.Count;
        }

        return merged;
    }

    public double Max()
    {
        for (var i = buckets.Length - 1; i >= 0; i--)
        {
            if (Interlocked.Read(ref buckets[i]) > 0)
            {
                return Math.Round((i + 1) * BucketMs, 1);
            }
        }

        return double.NaN;
    }
}

/// <summary>CPU time and resident memory of a process, from /proc (Linux).</summary>
internal static class ProcessStats
{
    private const double TicksPerSecond = 100; // USER_HZ: 100 on every Linux build .NET runs on

    /// <summary>User + system CPU seconds so far, or NaN when the process is gone or not given.</summary>
    public static double CpuSeconds(int? pid) =>
        pid is not null && Stat(pid.Value) is { } fields ? Ticks(fields, 11) + Ticks(fields, 12) : double.NaN;

    /// <summary>
    /// CPU seconds of a process and its children (PostgreSQL: the postmaster and its backends, each a process at
    /// normal priority beside the server), or NaN when not given. A backend that has ended is counted through the
    /// parent's cutime and cstime (the postmaster reaps its children), so the sum never goes backwards.
    /// </summary>
    public static double TreeCpuSeconds(int? pid)
    {
        if (pid is null || Stat(pid.Value) is not { } root)
        {
            return double.NaN;
        }

        // utime, stime, cutime, cstime: fields 14 to 17.
        var total = Ticks(root, 11) + Ticks(root, 12) + Ticks(root, 13) + Ticks(root, 14);
        var parent = pid.Value.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var child) && child != pid
                && Stat(child) is { } fields && fields[1] == parent)
            {
                total += Ticks(fields, 11) + Ticks(fields, 12);
            }
        }

        return total;
    }

    /// <summary>
    /// /proc/pid/stat from the field after the command name "(…)" on, which may itself contain spaces: [0] is field 3
    /// (state), [1] the parent, [11] utime (field 14); null when the process is gone.
    /// </summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static double Ticks(string[] fields, int index) => long.Parse(fields[index], CultureInfo.InvariantCulture) / TicksPerSecond;

    /// <summary>Resident set size in MiB (VmRSS), or NaN.</summary>
    public static double RssMiB(int? pid)
    {
        if (pid is null)
        {
            return double.NaN;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }
}

/// <summary>A process's garbage collections since it started: count, time paused, bytes allocated.</summary>
internal readonly record struct GcTotals(double Collections, double PauseSeconds, double AllocatedBytes)
{
    /// <summary>This process's own (the load generator's), from the runtime.</summary>
    public static GcTotals Own() =>
        new(GC.CollectionCount(0), GC.GetTotalPauseDuration().TotalSeconds, GC.GetTotalAllocatedBytes());

    /// <summary>What happened between two readings, per second; null when either reading is missing.</summary>
    public static GcRates? Between(GcTotals? from, GcTotals? to, double seconds) =>
        from is { } a && to is { } b && seconds > 0
            ? new GcRates(
                Math.Round((b.Collections - a.Collections) / seconds, 3),
                Math.Round((b.PauseSeconds - a.PauseSeconds) * 1000 / seconds, 1),
                Math.Round((b.AllocatedBytes - a.AllocatedBytes) / 1e6 / seconds, 1),
                b.Collections > a.Collections ? Math.Round((b.PauseSeconds - a.PauseSeconds) * 1000 / (b.Collections - a.Collections), 1) : null)
            : null;
}

/// <summary>Garbage collection over a step: collections per second, ms paused per second, MB allocated per second, ms per pause.</summary>
internal sealed record GcRates(double CollectionsPerSecond, double PauseMsPerSecond, double AllocatedMBPerSecond, double? PauseMsPerCollection);

/// <summary>
/// The server's garbage-collection totals from its Prometheus endpoint (<c>ConnText:Telemetry:PrometheusEnabled</c>): the
/// .NET runtime's own metrics (the <c>System.Runtime</c> meter, .NET 9 on), as an operator scraping the server sees them.
/// </summary>
internal sealed class ServerMetrics(Uri url) : IDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The totals now, or null when the endpoint does not answer or lacks the runtime's metrics.</summary>
    public async Task<GcTotals?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return Parse(await http.GetStringAsync(url, cancellationToken));
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Sums each metric over its labels (collections come one series per generation collected) from Prometheus text:
    /// <c>dotnet_gc_collections_total</c>, <c>dotnet_gc_pause_time_seconds_total</c>,
    /// <c>dotnet_gc_heap_total_allocated_bytes_total</c>.
    /// </summary>
    public static GcTotals? Parse(string text)
    {
        string[] names = ["dotnet_gc_collections_total", "dotnet_gc_pause_time_seconds_total", "dotnet_gc_heap_total_allocated_bytes_total"];
        var totals = new double?[names.Length];
        foreach (var line in text.Split('\n'))
        {
            var end = line.IndexOfAny([' ', '{']);
            var index = line.Length == 0 || line[0] == '#' || end <= 0 ? -1 : Array.IndexOf(names, line[..end]);
            if (index < 0)
            {
                continue;
            }

            // "name{labels} value [timestamp]": the value follows the labels (whose values may hold spaces).
            var afterLabels = line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : end;
            var fields = line[afterLabels..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                totals[index] = (totals[index] ?? 0) + value;
            }
        }

        return totals is [{ } collections, { } pause, { } allocated] ? new GcTotals(collections, pause, allocated) : null;
    }

    public void Dispose() => http.Dispose();
}
