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
    public static double CpuSeconds(int? pid) => CpuSeconds(pid, withReapedChildren: false);

    /// <summary>With <paramref name="withReapedChildren"/>, also the CPU of its children that have ended and were waited for.</summary>
    private static double CpuSeconds(int? pid, bool withReapedChildren)
    {
        if (pid is null)
        {
            return double.NaN;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name "(…)", which may itself contain spaces.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime is field 14, stime field 15.
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            // cutime and cstime: fields 16 and 17.
            var children = withReapedChildren
                ? long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)
                : 0;
            return (utime + stime + children) / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>
    /// CPU seconds of a process and its children (PostgreSQL: the postmaster and its backends, each a process at
    /// normal priority beside the server), or NaN when not given. A backend that has ended is counted through the
    /// parent's cutime and cstime (the postmaster reaps its children), so the sum never goes backwards.
    /// </summary>
    public static double TreeCpuSeconds(int? pid)
    {
        if (pid is null)
        {
            return double.NaN;
        }

        var total = CpuSeconds(pid, withReapedChildren: true);
        var parent = pid.Value.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var child) && child != pid && ParentOf(child) == parent)
            {
                total += CpuSeconds(child) is var seconds && double.IsNaN(seconds) ? 0 : seconds;
            }
        }

        return total;
    }

    private static string? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
        }
        catch (IOException)
        {
            return null;
        }
    }

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
