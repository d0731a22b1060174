using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ConnText.LoadTest;

/// <summary>
/// <c>summarize --dir results</c>: one Markdown report from the JSON files of a run (fanout-*.json, idle.json),
/// with the ratio of every other system (ConnText, and the ASP.NET Core baselines when the run has them) to the
/// Node.js baseline. A step is "sustained" when the send rate was reached
/// (≥ 99 % of offered), reach ≥ 0.999 and p99 ≤ 200 ms (the targets of docs/performance.md).
/// Writes nothing but summary.md in that directory.
/// </summary>
internal static class Summary
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var dir = options.Required("dir");
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        var reports = new List<FanOutReport>();
        foreach (var file in Directory.GetFiles(dir, "fanout-*.json").Order(StringComparer.Ordinal))
        {
            var report = JsonSerializer.Deserialize<FanOutReport>(await File.ReadAllTextAsync(file, cancellationToken), ReportJson.Options);
            if (report is not null)
            {
                reports.Add(report);
            }
        }

        if (reports.Count > 0)
        {
            text.AppendLine("### Hub fan-out").AppendLine();
            foreach (var report in reports)
            {
                text.AppendLine(FanOut.Table(report));
                text.AppendLine(c, $"Connected in {report.ConnectSeconds} s; server RSS with all connections open: {report.ServerRssAfterConnectMiB} MiB; load average at the end: {report.LoadAverageAtEnd}.").AppendLine();
            }

            // The Node.js relay: target "ws" like Kestrel's relay, told apart by the label run-hub.sh gives it.
            var baseline = reports.FirstOrDefault(r => r.Target == "ws" && r.Label.StartsWith("Node.js", StringComparison.Ordinal));
            if (baseline is not null)
            {
                text.AppendLine("Ratio to the Node.js `ws` relay at the same offered rate (delivered/s ÷ delivered/s; p99 ÷ p99):").AppendLine();
                text.AppendLine("| system | offered msg/s | delivered/s ratio | p99 ratio | sustained (system / Node) |");
                text.AppendLine("|---|---:|---:|---:|---|");
                foreach (var report in reports.Where(r => r != baseline))
                {
                    foreach (var step in report.Steps)
                    {
                        var other = baseline.Steps.FirstOrDefault(s => Math.Abs(s.OfferedPerSecond - step.OfferedPerSecond) < 0.001);
                        if (other is null)
                        {
                            continue;
                        }

                        text.AppendLine(c, $"| {report.Label} | {step.OfferedPerSecond:0} | {step.DeliveredPerSecond / other.DeliveredPerSecond:0.00} | {step.P99Ms / other.P99Ms:0.0} | {Yes(Sustained(step))} / {Yes(Sustained(other))} |");
                    }
                }

                text.AppendLine();
                foreach (var report in reports)
                {
                    var best = report.Steps.Where(Sustained).MaxBy(s => s.DeliveredPerSecond);
                    text.AppendLine(c, $"- {report.Label}: highest sustained step {(best is null ? "none" : $"{best.DeliveredPerSecond:0} delivered/s (offered {best.OfferedPerSecond:0} msg/s, p99 {best.P99Ms:0.0} ms)")}");
                }

                text.AppendLine();
            }
        }

        var idleFile = Path.Combine(dir, "idle.json");
        if (File.Exists(idleFile))
        {
            using var idle = JsonDocument.Parse(await File.ReadAllTextAsync(idleFile, cancellationToken));
            var root = idle.RootElement;
            text.AppendLine("### Idle hub connections").AppendLine();
            text.AppendLine("| open connections | server RSS MiB | MiB per 1,000 connections (from 0) |");
            text.AppendLine("|---:|---:|---:|");
            var baseRss = root.GetProperty("points")[0].GetProperty("rssMiB").GetDouble();
            foreach (var point in root.GetProperty("points").EnumerateArray())
            {
                var open = point.GetProperty("open").GetInt32();
                var rss = point.GetProperty("rssMiB").GetDouble();
                var label = AfterFullGc(point) ? $"{open} (after a full GC)" : open.ToString(c);
                text.AppendLine(c, $"| {label} | {rss:0} | {(open == 0 ? "" : ((rss - baseRss) / open * 1000).ToString("0.0", c))} |");
            }

            // The headline is the memory the server holds as it runs; the point after dotnet-gcdump's forced full
            // collection (--idle-gcdump) only shows how much of that was garbage not yet collected.
            var last = root.GetProperty("points").EnumerateArray().Last(p => !AfterFullGc(p));
            var perConnectionKiB = (last.GetProperty("rssMiB").GetDouble() - baseRss) / last.GetProperty("open").GetInt32() * 1024;
            var at50k = baseRss + (perConnectionKiB * 50_000 / 1024);
            text.AppendLine();
            text.AppendLine(c, $"Measured: {last.GetProperty("open").GetInt32()} connections, {perConnectionKiB:0.0} KiB of server RSS per connection. Extrapolated (linear, not measured): 50,000 connections ≈ {at50k / 1024:0.00} GiB.");
            if (root.GetProperty("points").EnumerateArray().LastOrDefault(AfterFullGc) is { ValueKind: JsonValueKind.Object } collected)
            {
                var collectedKiB = (collected.GetProperty("rssMiB").GetDouble() - baseRss) / collected.GetProperty("open").GetInt32() * 1024;
                text.AppendLine(c, $"After a full GC (dotnet-gcdump's snapshot): {collectedKiB:0.0} KiB per connection; the snapshot's largest types are in idle-gcdump.txt.");
            }

            text.AppendLine();
        }

        var output = Path.Combine(dir, "summary.md");
        await File.WriteAllTextAsync(output, text.ToString(), cancellationToken);
        Console.WriteLine(text.ToString());
        return 0;
    }

    private static bool AfterFullGc(JsonElement point) =>
        point.TryGetProperty("afterFullGc", out var value) && value.ValueKind == JsonValueKind.True;

    public static bool Sustained(StepResult step) =>
        step.SentPerSecond >= 0.99 * step.OfferedPerSecond && step.Reach >= 0.999 && step.P99Ms <= 200;

    private static string Yes(bool value) => value ? "yes" : "no";
}
